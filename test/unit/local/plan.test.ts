import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMesh } from '../../../local/src/plan.js';
import { bootstrapToken } from '#api';

const base = { root: '/repo', node: '/usr/bin/node', natsBin: 'nats-server', stateDir: '/tmp/s', configDir: 'compose/config', demo: true, logLevel: 'info', citadelSecret: 's3cret' };

test('process mode gives every listener its own port, shifted by the offset', () => {
  for (const portOffset of [0, 20_000]) {
    const plan = planMesh({ ...base, portOffset });
    const used: number[] = [...Object.values(plan.ports)];
    for (const p of plan.processes) {
      for (const [k, v] of Object.entries(p.env)) if (/_PORT$/.test(k)) used.push(Number(v));
    }
    for (const pr of plan.proxies) used.push(pr.ports.admin, pr.ports.inbound, pr.ports.outbound);
    const dupes = used.filter((p, i) => used.indexOf(p) !== i);
    // Each sidecar's ports appear in its env and in plan.proxies; components' in env and plan.ports.
    assert.ok(dupes.every((d) => used.filter((u) => u === d).length === 2), `ports used by two listeners: ${[...new Set(dupes)]}`);
    assert.equal(plan.ports.gateway, 8080 + portOffset);
    assert.ok(used.every((p) => p > 0 && p < 65536));
  }
});

test('every sidecar carries its own attestation token and its app talks through it', () => {
  const plan = planMesh({ ...base, portOffset: 0 });
  const reviews = plan.processes.find((p) => p.name === 'reviews-v2-proxy')!;
  assert.equal(reviews.env.MESH_CITADEL_TOKEN, bootstrapToken('s3cret', 'default', 'bookinfo-reviews'));
  assert.equal(reviews.env.MESH_LABELS, 'app=reviews,version=v2');
  const app = plan.processes.find((p) => p.name === 'reviews-v2')!;
  assert.equal(app.env.HTTP_PROXY, `http://127.0.0.1:${reviews.env.MESH_OUTBOUND_PORT}`);
  assert.equal(reviews.env.MESH_APP_PORTS, `http:9080:${app.env.SERVICE_PORT}`);
  const gw = plan.processes.find((p) => p.group === 'gateway')!;
  assert.equal(gw.env.MESH_GATEWAY_PORT_MAP, '8080=8080');
  assert.equal(gw.env.MESH_LABELS, 'istio=ingressgateway,app=istio-ingressgateway');
});
