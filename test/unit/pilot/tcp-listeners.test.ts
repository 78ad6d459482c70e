// Pilot's TCP listeners (issue 4 point 4): a TCP service port (protocol TCP or a `tcp-` name)
// gets an outbound TCP listener naming its cluster, or the weighted destinations of a
// VirtualService `tcp` route; HTTP ports get none; the config compiles in the sidecar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protocolFromPortName, type ProxyAnnouncement } from '#api';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { buildPushContext } from '../../../pilot/src/model/push-context.js';
import { compileProxyConfig } from '../../../sidecar/src/compile.js';
import { parseResources, registryOf, sidecar, snapshotOf } from './bookinfo-model.js';
import { assertGolden } from '../../support/golden.js';

const TCP_ECHO = 'tcp-echo.default.svc.cluster.local';

function tcpEcho(version: string, ip: string): ProxyAnnouncement {
  const a = sidecar('tcp-echo', version, { ip });
  a.workload.serviceAccount = 'tcp-echo';
  a.workload.ports = [
    { name: 'tcp', port: 9000, targetPort: 19000, protocol: protocolFromPortName('tcp') },
    { name: 'tcp-b', port: 9001, targetPort: 19001, protocol: 'TCP' },
  ];
  return a;
}

const ROUTING = `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: tcp-echo-destination
spec:
  host: tcp-echo
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: tcp-echo
spec:
  hosts:
  - tcp-echo
  tcp:
  - match:
    - port: 9000
    route:
    - destination:
        host: tcp-echo
        port:
          number: 9000
        subset: v1
      weight: 80
    - destination:
        host: tcp-echo
        port:
          number: 9000
        subset: v2
      weight: 20
`;

function model(yaml = '') {
  const sleep = sidecar('sleep', 'v1', { services: [], ip: '10.2.0.1' });
  const productpage = sidecar('productpage', 'v1', { ip: '10.2.0.2' });
  const registry = registryOf([sleep, productpage, tcpEcho('v1', '10.2.0.3'), tcpEcho('v2', '10.2.0.4')]);
  const push = buildPushContext(snapshotOf(yaml ? parseResources(yaml, 'tcp-echo.yaml') : []), registry);
  return { push, sleep, productpage };
}

test('a TCP service port gets an outbound TCP listener to its cluster; HTTP ports get none', () => {
  const { push, sleep } = model();
  const cfg = generateProxyConfig(push, sleep);
  const tcp = cfg.listeners.filter((l) => l.protocol === 'TCP');
  assert.deepEqual(tcp.map((l) => [l.name, l.port, l.cluster, l.service]), [
    [`${TCP_ECHO}_9000`, 9000, `outbound|9000||${TCP_ECHO}`, TCP_ECHO],
    [`${TCP_ECHO}_9001`, 9001, `outbound|9001||${TCP_ECHO}`, TCP_ECHO],
  ]);
  assert.ok(tcp.every((l) => l.kind === 'outbound' && l.weightedClusters === undefined));
  assert.ok(!cfg.listeners.some((l) => l.protocol === 'TCP' && l.service?.startsWith('productpage')), 'HTTP ports have no TCP listener');
  const cluster = cfg.clusters.find((c) => c.name === `outbound|9000||${TCP_ECHO}`)!;
  assert.equal(cluster.protocol, 'TCP');
  assert.equal(cluster.tls.mode, 'ISTIO_MUTUAL');
  assert.deepEqual(cluster.tls.subjectAltNames, ['spiffe://cluster.local/ns/default/sa/tcp-echo']);
  assert.ok(!cfg.routes.some((r) => r.name === '9000'), 'no HTTP route configuration for a TCP port');
  // The sidecar accepts it, and the HTTP outbound listener is still the one in force.
  const compiled = compileProxyConfig(cfg, 'v1');
  assert.equal(compiled.outbound?.name, 'virtualOutbound');
});

test('a VirtualService tcp route gives weighted subset destinations on its port only', () => {
  const { push, sleep } = model(ROUTING);
  const cfg = generateProxyConfig(push, sleep);
  const l9000 = cfg.listeners.find((l) => l.name === `${TCP_ECHO}_9000`)!;
  assert.equal(l9000.cluster, `outbound|9000|v1|${TCP_ECHO}`);
  assert.deepEqual(l9000.weightedClusters, [
    { name: `outbound|9000|v1|${TCP_ECHO}`, weight: 80 },
    { name: `outbound|9000|v2|${TCP_ECHO}`, weight: 20 },
  ]);
  const l9001 = cfg.listeners.find((l) => l.name === `${TCP_ECHO}_9001`)!;
  assert.equal(l9001.cluster, `outbound|9001||${TCP_ECHO}`, 'the match names port 9000 only');
  assert.equal(l9001.weightedClusters, undefined);
  compileProxyConfig(cfg, 'v1');
});

test('a tcp route to a host the config does not carry falls back to the port cluster', () => {
  const { push, sleep } = model(ROUTING.replace(/host: tcp-echo\n        port:\n          number: 9000\n        subset: v2/, 'host: nowhere.example.com\n        port:\n          number: 9000'));
  const cfg = generateProxyConfig(push, sleep);
  const l = cfg.listeners.find((x) => x.name === `${TCP_ECHO}_9000`)!;
  assert.equal(l.cluster, `outbound|9000|v1|${TCP_ECHO}`);
  assert.equal(l.weightedClusters, undefined, 'the unknown destination is dropped');
  compileProxyConfig(cfg, 'v1');
});

test('golden: sleep sidecar with TCP listeners and a weighted tcp route', () => {
  const { push, sleep } = model(ROUTING);
  const cfg = generateProxyConfig(push, sleep);
  assertGolden('pilot/sleep-tcp-sidecar.json', `${JSON.stringify({ listeners: cfg.listeners, clusters: cfg.clusters.filter((c) => c.protocol === 'TCP') }, null, 2)}\n`);
});
