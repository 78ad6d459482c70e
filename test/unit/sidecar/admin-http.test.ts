// The sidecar admin API on node:http: routing, status codes, JSON and text bodies. A stand-in
// data plane carries only what the routes read.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildAdmin, type AdminApp } from '../../../sidecar/src/admin.js';
import type { DataPlane } from '../../../sidecar/src/data-plane.js';

let app: AdminApp;
let base: string;
const levels: string[] = [];
let certificate: object | undefined;

before(async () => {
  const plane = {
    identity: { current: () => certificate },
    current: undefined,
    status: {},
    counters: { requests: { outbound: 3 } },
    telemetry: { snapshot: () => ({ sent: 0 }) },
    agents: { stats: () => ({}) },
    forwarder: { shadowStats: {} },
  } as unknown as DataPlane;
  app = buildAdmin({
    plane,
    metrics: { metrics: async () => 'mesh_proxy_retries_total 0\n', contentType: async () => 'text/plain; version=0.0.4; charset=utf-8' },
    listeners: () => ({}),
    setLogLevel: (l) => { levels.push(l); },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr && typeof addr === 'object');
  base = `http://127.0.0.1:${addr.port}`;
});
after(() => app.close());

test('/ready answers 503 with the reason until there is a certificate and a config', async () => {
  const r = await fetch(`${base}/ready`);
  assert.equal(r.status, 503);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await r.json(), { component: 'sidecar', ready: false, detail: 'no workload certificate yet' });
  certificate = {};
  const r2 = await (await fetch(`${base}/ready`)).json() as { detail: string };
  assert.match(r2.detail, /no config from pilot yet/);
  assert.equal((await fetch(`${base}/ready`, { method: 'HEAD' })).status, 503, 'HEAD follows GET');
});

test('JSON and Prometheus text routes, and POST /logging validates the level', async () => {
  const stats = await (await fetch(`${base}/stats`)).json() as { requests: { outbound: number } };
  assert.equal(stats.requests.outbound, 3);
  const prom = await fetch(`${base}/stats/prometheus`);
  assert.equal(prom.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(await prom.text(), 'mesh_proxy_retries_total 0\n');
  assert.equal((await fetch(`${base}/logging?level=debug`, { method: 'POST' })).status, 200);
  const bad = await fetch(`${base}/logging?level=loud`, { method: 'POST' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, 'SC0200');
  assert.deepEqual(levels, ['debug']);
});

test('unknown routes answer 404, a known path with the wrong method 405, a failing route 500', async () => {
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  assert.equal((await fetch(`${base}/logging?level=debug`)).status, 405, 'mutations are POST only');
  // /clusters reads plane.current, absent here: still an answer, not a crash.
  assert.equal((await fetch(`${base}/clusters`)).status, 200);
  const dump = await fetch(`${base}/config_dump`);
  assert.equal(dump.status, 500, 'the stand-in plane lacks what config_dump reads');
  assert.equal(((await dump.json()) as { code: string }).code, 'SC0500');
  assert.equal((await fetch(`${base}/ready`)).status, 503, 'the server keeps serving after a failing route');
});
