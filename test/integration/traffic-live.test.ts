// Traffic management on live traffic: Istio resources -> pilot's own generator -> real
// sidecars (mTLS with a test CA, a real nats-server, a fake pilot on the bus) -> real apps.
// Each test applies a set of resources to the client sidecar and observes what the apps and
// the client see, with the statistical tolerances issue 4 names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connectBus, createLogger, spiffeId, subjects,
  type Bus, type ConfigAck, type ConfigPush, type ProxyAnnouncement, type ReportBatch, type ReportRecord, type Resource,
} from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { createTestCa, issueLeaf, type TestCa } from '../support/certs.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';
import { generateProxyConfig, buildPushContext } from '../../pilot/src/generate/index.js';
import { announcementToRegistry } from '../../pilot/src/registry/announce.js';
import { mergeSnapshots } from '../../pilot/src/registry/aggregate.js';
import { serviceEntriesToRegistry } from '../../pilot/src/registry/service-entries.js';

const log = createLogger('traffic-test', 'silent');
const REVIEWS = 'reviews.default.svc.cluster.local';

interface App {
  name: string;
  server: http.Server;
  port: number;
  requests: { url: string; method: string; headers: http.IncomingHttpHeaders }[];
  failing: boolean;
  held: http.ServerResponse[];
  flaky: Set<string>;
}

async function startApp(name: string): Promise<App> {
  const app: App = { name, server: http.createServer(), port: 0, requests: [], failing: false, held: [], flaky: new Set() };
  app.server.on('request', (req, res) => {
    const url = req.url ?? '/';
    app.requests.push({ url, method: req.method ?? 'GET', headers: req.headers });
    if (app.failing) { res.writeHead(503, { 'content-length': 0 }); res.end(); return; }
    if (url.startsWith('/hold')) { app.held.push(res); return; }
    if (url.startsWith('/flaky/')) {
      // The first request for an id fails with 409, later ones succeed.
      if (!app.flaky.has(url)) { app.flaky.add(url); res.writeHead(409, { 'content-length': 0 }); res.end(); return; }
    }
    const body = JSON.stringify({ version: name, url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  app.port = (app.server.address() as AddressInfo).port;
  return app;
}

function releaseHeld(app: App): void {
  for (const res of app.held.splice(0)) {
    const body = JSON.stringify({ version: app.name, url: '/hold' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}

function workload(name: string, sa: string, labels: Record<string, string>, services: string[], appPorts: string): WorkloadSpec {
  const id = spiffeId('default', sa);
  return {
    kind: 'sidecar', proxyId: `${name}-traffic.default`, name, namespace: 'default', serviceAccount: sa, labels, services,
    ports: parseAppPorts(appPorts), gatewayPortMap: new Map(), spiffeId: id,
    peer: { workload: name, namespace: 'default', app: labels.app ?? name, version: labels.version ?? 'unknown', principal: id },
  };
}

interface Resp { status: number; headers: http.IncomingHttpHeaders; body: string; version?: string; url?: string; reqHeaders?: Record<string, string> }

const agent = new http.Agent({ keepAlive: true, maxSockets: 24 });

function send(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: client.ports.outbound!, path, method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const r: Resp = { status: res.statusCode ?? 0, headers: res.headers, body };
        if (res.headers['content-type'] === 'application/json') {
          const j = JSON.parse(body) as { version: string; url: string; headers: Record<string, string> };
          r.version = j.version;
          r.url = j.url;
          r.reqHeaders = j.headers;
        }
        resolve(r);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `n` requests, at most `concurrency` in flight. */
async function sendMany(n: number, path: (i: number) => string, headers: (i: number) => Record<string, string> = () => ({}), concurrency = 16): Promise<Resp[]> {
  const out: Resp[] = new Array(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) out[i] = await send(path(i), headers(i));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

let nats: NatsServer;
let ca: TestCa;
let pilotBus: Bus;
const buses: Bus[] = [];
const sidecars: Sidecar[] = [];
let v1: App;
let v2: App;
let outside: App;
let client: Sidecar;
let reviewsV1: Sidecar;
let reviewsV2: Sidecar;
const acks: ConfigAck[] = [];
const records: ReportRecord[] = [];
let nonce = 0;

async function sidecar(w: WorkloadSpec): Promise<Sidecar> {
  const bus = await connectBus({ servers: nats.url, name: w.proxyId, log });
  buses.push(bus);
  const s = await startSidecar({
    workload: w, bus, identity: staticIdentity(issueLeaf(ca, w.spiffeId)), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
    outbound: { bind: '127.0.0.1', port: 0 },
    adminPort: 0, gatewayBind: '127.0.0.1', register: true,
    heartbeatMs: 60_000, reportBatchMs: 20, reportBuffer: 20_000,
  });
  sidecars.push(s);
  return s;
}

const dr = (spec: Record<string, unknown>, name = 'reviews'): Resource => ({ apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name, namespace: 'default' }, spec: { host: 'reviews', ...spec } });
const vs = (http: unknown[], name = 'reviews', hosts = ['reviews']): Resource => ({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name, namespace: 'default' }, spec: { hosts, http } });
const SUBSETS = { subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] };

/** Runs pilot's generator over the resources and the sidecars' announcements, pushes the
 *  client's config and waits for its ACK. */
async function apply(resources: Resource[]): Promise<ConfigAck> {
  const registry = mergeSnapshots([
    announcementToRegistry(reviewsV1.announcement()),
    announcementToRegistry(reviewsV2.announcement()),
    serviceEntriesToRegistry(resources).snapshot,
  ]);
  const version = `traffic-${++nonce}`;
  const push = buildPushContext({ version, publishedAt: new Date().toISOString(), resources }, registry);
  const config = generateProxyConfig(push, client.announcement());
  const n = `n${nonce}`;
  const msg: ConfigPush = { proxyId: client.plane.workload.proxyId, version, nonce: n, sentAt: new Date().toISOString(), config };
  pilotBus.publish(subjects.proxyConfig(msg.proxyId), msg);
  const ack = await waitFor(() => acks.find((a) => a.nonce === n), { what: `ack of ${n}`, timeoutMs: 10_000 });
  assert.equal(ack.ok, true, ack.error);
  return ack;
}

async function adminJson<T>(path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${client.ports.admin}${path}`);
  return (await r.json()) as T;
}

before(async () => {
  nats = await startNats();
  ca = createTestCa();
  pilotBus = await connectBus({ servers: nats.url, name: 'fake pilot', log });
  pilotBus.subscribe<ProxyAnnouncement>(subjects.proxyAnnounce, (m) => { m.respond({ ok: true }); });
  pilotBus.subscribe<ConfigAck>(subjects.proxyAck, (m) => { acks.push(m.data); });
  pilotBus.subscribe<ReportBatch>(subjects.telemetryReport, (m) => { records.push(...m.data.records); });
  await pilotBus.flush();
  v1 = await startApp('v1');
  v2 = await startApp('v2');
  outside = await startApp('outside');
  client = await sidecar(workload('productpage-v1', 'bookinfo-productpage', { app: 'productpage', version: 'v1' }, [], ''));
  reviewsV1 = await sidecar(workload('reviews-v1', 'bookinfo-reviews', { app: 'reviews', version: 'v1' }, ['reviews'], `http:9080:${v1.port}`));
  reviewsV2 = await sidecar(workload('reviews-v2', 'bookinfo-reviews', { app: 'reviews', version: 'v2' }, ['reviews'], `http:9080:${v2.port}`));
});

after(async () => {
  agent.destroy();
  for (const s of sidecars) await s.stop();
  for (const b of buses) await b.close();
  await pilotBus.close();
  for (const a of [v1, v2, outside]) {
    releaseHeld(a);
    a.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
  }
  await nats.stop();
});

test('weighted routes: an 80/20 split holds within 5 points over 2,000 requests', async () => {
  await apply([dr(SUBSETS), vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 80 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 20 }] }])]);
  const rs = await sendMany(2000, (i) => `http://reviews:9080/split/${i}`);
  assert.ok(rs.every((r) => r.status === 200), 'every request succeeds');
  const share = rs.filter((r) => r.version === 'v1').length / rs.length;
  assert.ok(Math.abs(share - 0.8) <= 0.05, `v1 share ${share}`);
});

test('fault abort at 50 % holds within 5 points over 2,000 requests; aborts are flagged FI', async () => {
  await apply([dr(SUBSETS), vs([{ fault: { abort: { httpStatus: 500, percentage: { value: 50 } } }, route: [{ destination: { host: 'reviews', subset: 'v1' } }] }])]);
  const before = v1.requests.length;
  const rs = await sendMany(2000, (i) => `http://reviews:9080/abort/${i}`);
  const aborted = rs.filter((r) => r.status === 500);
  assert.equal(aborted.length + rs.filter((r) => r.status === 200).length, 2000);
  const share = aborted.length / rs.length;
  assert.ok(Math.abs(share - 0.5) <= 0.05, `abort share ${share}`);
  assert.match(aborted[0]!.body, /fault filter abort/);
  assert.equal(v1.requests.length - before, 2000 - aborted.length, 'aborted requests never reach the app');
  const flagged = await waitFor(() => {
    const fi = records.filter((r) => r.reporter === 'source' && (r.path ?? '').startsWith('/abort/') && r.responseFlags === 'FI').length;
    return fi === aborted.length ? fi : undefined;
  }, { what: 'FI records for every abort', timeoutMs: 10_000 });
  assert.equal(flagged, aborted.length);
});

test('fault delay holds the request (DI) and a route timeout answers 504 UT', async () => {
  await apply([dr(SUBSETS), vs([
    { match: [{ uri: { prefix: '/delayed' } }], fault: { delay: { fixedDelay: '300ms', percentage: { value: 100 } } }, route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { match: [{ uri: { prefix: '/hold' } }], timeout: '200ms', route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
    { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
  ])]);
  const t0 = performance.now();
  const delayed = await send('http://reviews:9080/delayed');
  assert.equal(delayed.status, 200);
  assert.ok(performance.now() - t0 >= 290, 'the delay was applied');
  const slow = await send('http://reviews:9080/hold/timeout');
  assert.equal(slow.status, 504);
  assert.match(slow.body, /upstream request timeout/);
  releaseHeld(v1);
  await waitFor(() => records.some((r) => r.path === '/delayed' && r.responseFlags === 'DI'), { what: 'DI record' });
  await waitFor(() => records.some((r) => r.path === '/hold/timeout' && r.responseFlags === 'UT' && r.responseCode === 504), { what: 'UT record' });
});

test('circuit breaking: with 1 connection and 1 pending request, the third concurrent request overflows with 503 UO', async () => {
  await apply([dr({ ...SUBSETS, trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } } } }),
    vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }])]);
  const inflight = [send('http://reviews:9080/hold/cb1'), send('http://reviews:9080/hold/cb2'), send('http://reviews:9080/hold/cb3')];
  // One request reaches the app, one waits in the sidecar, one overflows at once.
  const first = await Promise.race(inflight);
  assert.equal(first.status, 503);
  assert.match(first.body, /overflow/);
  await waitFor(() => v1.held.length === 1 || undefined, { what: 'one request held by the app' });
  const clusters = await adminJson<{ clusters: { name: string; circuitBreakers?: { active: number; pending: number; overflows: number } }[] }>('/clusters');
  const cb = clusters.clusters.find((c) => c.name === `outbound|9080|v1|${REVIEWS}`)?.circuitBreakers;
  assert.deepEqual([cb?.active, cb?.pending], [1, 1]);
  const held = v1.requests.length;
  releaseHeld(v1);
  // The pending request goes out once the slot is free.
  await waitFor(() => v1.held.length === 1 || undefined, { what: 'the pending request reaching the app' });
  assert.equal(v1.requests.length, held + 1);
  releaseHeld(v1);
  const all = await Promise.all(inflight);
  assert.deepEqual(all.map((r) => r.status).sort(), [200, 200, 503]);
  await waitFor(() => records.some((r) => (r.path ?? '').startsWith('/hold/cb') && r.responseFlags === 'UO' && r.responseCode === 503), { what: 'UO record' });
});

test('outlier detection ejects an endpoint after consecutive 5xx; traffic moves to the healthy one', async () => {
  await apply([dr({ trafficPolicy: { outlierDetection: { consecutive5xxErrors: 2, interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 50 } } })]);
  v2.failing = true;
  try {
    const rs: Resp[] = [];
    for (let i = 0; i < 12; i++) rs.push(await send(`http://reviews:9080/outlier/${i}`));
    assert.equal(rs.filter((r) => r.status === 503).length, 2, 'exactly two failures before the ejection');
    assert.ok(rs.slice(-6).every((r) => r.status === 200 && r.version === 'v1'), 'after it, every request lands on v1');
    const clusters = await adminJson<{ clusters: { name: string; endpoints: { port: number; ejected: boolean; ejections: number }[] }[] }>('/clusters');
    const eps = clusters.clusters.find((c) => c.name === `outbound|9080||${REVIEWS}`)!.endpoints;
    assert.deepEqual(eps.find((e) => e.port === reviewsV2.ports.inbound)?.ejected, true);
    assert.deepEqual(eps.find((e) => e.port === reviewsV1.ports.inbound)?.ejected, false);
  } finally {
    v2.failing = false;
  }
  // Without outlier detection the ejection no longer applies.
  await apply([]);
  const rs = await sendMany(20, (i) => `http://reviews:9080/after-outlier/${i}`);
  assert.ok(rs.some((r) => r.version === 'v2'));
});

test('mirroring: the mirror receives a copy with a -shadow host; the client gets only the primary answer', async () => {
  await apply([dr(SUBSETS), vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' } }], mirror: { host: 'reviews', subset: 'v2' }, mirrorPercentage: { value: 100 } }])]);
  const r = await send('http://reviews:9080/mirrored?x=1', { 'x-trace-me': 'yes' });
  assert.equal(r.status, 200);
  assert.equal(r.version, 'v1');
  const copy = await waitFor(() => v2.requests.find((q) => q.url === '/mirrored?x=1'), { what: 'the mirrored copy' });
  assert.equal(copy.headers.host, 'reviews-shadow:9080');
  assert.equal(copy.headers['x-trace-me'], 'yes');
  assert.equal(copy.headers['x-request-id'], r.reqHeaders?.['x-request-id']);
  // mirrorPercentage 0: no copies.
  await apply([dr(SUBSETS), vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' } }], mirror: { host: 'reviews', subset: 'v2' }, mirrorPercentage: { value: 0 } }])]);
  await sendMany(20, (i) => `http://reviews:9080/not-mirrored/${i}`);
  assert.equal(v2.requests.filter((q) => q.url.startsWith('/not-mirrored/')).length, 0);
});

test('consistent hash: a header keeps each user on one endpoint; a cookie with a ttl is issued when absent', async () => {
  await apply([dr({ trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } })]);
  const seen = new Map<string, Set<string>>();
  await sendMany(100, (i) => `http://reviews:9080/hash/${i}`, (i) => ({ 'x-user': `user-${i % 20}` }), 8).then((rs) => rs.forEach((r, i) => {
    const u = `user-${i % 20}`;
    if (!seen.has(u)) seen.set(u, new Set());
    seen.get(u)!.add(r.version!);
  }));
  assert.ok([...seen.values()].every((s) => s.size === 1), 'each user always reaches the same endpoint');
  const versions = new Set([...seen.values()].flatMap((s) => [...s]));
  assert.deepEqual([...versions].sort(), ['v1', 'v2'], 'users spread over both endpoints');

  await apply([dr({ trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '60s' } } } } })]);
  const first = await send('http://reviews:9080/cookie');
  const setCookie = first.headers['set-cookie']?.[0] ?? '';
  assert.match(setCookie, /^session=[0-9a-f]+; Path=\/; Max-Age=60; HttpOnly$/);
  const cookie = setCookie.split(';')[0]!;
  const again = await sendMany(10, () => 'http://reviews:9080/cookie', () => ({ cookie }), 4);
  assert.ok(again.every((r) => r.version === again[0]!.version && r.headers['set-cookie'] === undefined));
});

test('retries cover retriable status codes; without them the first answer stands', async () => {
  await apply([dr(SUBSETS), vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' } }], retries: { attempts: 2, retryOn: 'retriable-status-codes,409' } }])]);
  const retried = await send('http://reviews:9080/flaky/a');
  assert.equal(retried.status, 200);
  await apply([dr(SUBSETS), vs([{ route: [{ destination: { host: 'reviews', subset: 'v1' } }], retries: { attempts: 2, retryOn: '5xx' } }])]);
  const notRetried = await send('http://reviews:9080/flaky/b');
  assert.equal(notRetried.status, 409);
});

test('corsPolicy: the proxy answers an allowed preflight and decorates allowed responses', async () => {
  await apply([dr(SUBSETS), vs([{
    route: [{ destination: { host: 'reviews', subset: 'v1' } }],
    corsPolicy: { allowOrigins: [{ exact: 'http://ok.example' }], allowMethods: ['GET', 'POST'], allowHeaders: ['x-custom'], maxAge: '1m', exposeHeaders: ['x-served-by'], allowCredentials: true },
  }])]);
  const before = v1.requests.length;
  const pre = await send('http://reviews:9080/cors', { origin: 'http://ok.example', 'access-control-request-method': 'POST' }, 'OPTIONS');
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-origin'], 'http://ok.example');
  assert.equal(pre.headers['access-control-allow-methods'], 'GET,POST');
  assert.equal(pre.headers['access-control-allow-headers'], 'x-custom');
  assert.equal(pre.headers['access-control-max-age'], '60');
  assert.equal(v1.requests.length, before, 'the preflight never reached the app');
  const ok = await send('http://reviews:9080/cors', { origin: 'http://ok.example' });
  assert.equal(ok.headers['access-control-allow-origin'], 'http://ok.example');
  assert.equal(ok.headers['access-control-allow-credentials'], 'true');
  assert.equal(ok.headers['access-control-expose-headers'], 'x-served-by');
  const other = await send('http://reviews:9080/cors', { origin: 'http://evil.example' });
  assert.equal(other.status, 200);
  assert.equal(other.headers['access-control-allow-origin'], undefined);
});

test('per-destination response headers, and UH when a subset has no endpoints', async () => {
  await apply([dr({ subsets: [...SUBSETS.subsets, { name: 'v3', labels: { version: 'v3' } }] }), vs([
    { match: [{ uri: { prefix: '/none' } }], route: [{ destination: { host: 'reviews', subset: 'v3' } }] },
    { route: [{ destination: { host: 'reviews', subset: 'v1' }, headers: { response: { set: { 'x-served-by': 'v1' } }, request: { add: { 'x-via': 'mesh' } } } }] },
  ])]);
  const r = await send('http://reviews:9080/headers');
  assert.equal(r.headers['x-served-by'], 'v1');
  assert.equal(r.reqHeaders?.['x-via'], 'mesh');
  const none = await send('http://reviews:9080/none');
  assert.equal(none.status, 503);
  await waitFor(() => records.some((x) => x.path === '/none' && x.responseFlags === 'UH'), { what: 'UH record' });
});

test('outbound traffic policy: ALLOW_ANY passes unknown hosts through, REGISTRY_ONLY answers 502 NR', async () => {
  await apply([]);
  const through = await send(`http://127.0.0.1:${outside.port}/passthrough`);
  assert.equal(through.status, 200);
  assert.equal(through.version, 'outside');
  assert.equal(through.reqHeaders?.['x-mesh-peer'], undefined, 'mesh metadata does not leave the mesh');
  assert.ok(through.reqHeaders?.['x-request-id'], 'x-request-id is generated');
  await apply([{ apiVersion: 'networking.istio.io/v1beta1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'default' }, spec: { egress: [{ hosts: ['./*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } }]);
  const blocked = await send(`http://127.0.0.1:${outside.port}/blocked`);
  assert.equal(blocked.status, 502);
  assert.equal(outside.requests.filter((q) => q.url === '/blocked').length, 0);
  await waitFor(() => records.some((x) => x.path === '/blocked' && x.responseFlags === 'NR'), { what: 'NR record' });
  assert.equal((await send('http://reviews:9080/still-known')).status, 200, 'registry services still work');
});

test('ServiceEntry STATIC (external, plain HTTP) and a WorkloadEntry behind a sidecar (mTLS) join the mesh', async () => {
  const se = (name: string, spec: Record<string, unknown>): Resource => ({ apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry', metadata: { name, namespace: 'default' }, spec });
  await apply([
    se('external-api', { hosts: ['api.external.test'], ports: [{ number: 8088, name: 'http', protocol: 'HTTP' }], location: 'MESH_EXTERNAL', resolution: 'STATIC', endpoints: [{ address: '127.0.0.1', ports: { http: outside.port } }] }),
    se('legacy', { hosts: ['legacy.default.svc.cluster.local'], ports: [{ number: 9080, name: 'http' }], location: 'MESH_INTERNAL', resolution: 'STATIC', workloadSelector: { labels: { app: 'legacy' } } }),
    { apiVersion: 'networking.istio.io/v1beta1', kind: 'WorkloadEntry', metadata: { name: 'legacy-vm', namespace: 'default' }, spec: { address: '127.0.0.1', ports: { http: reviewsV2.ports.inbound }, labels: { app: 'legacy', 'security.istio.io/tlsMode': 'istio' }, serviceAccount: 'bookinfo-reviews' } },
    vs([{ route: [{ destination: { host: 'api.external.test' }, headers: { request: { set: { 'x-egress': 'yes' } } } }] }], 'external', ['api.external.test']),
  ]);
  const ext = await send('http://api.external.test:8088/hello');
  assert.equal(ext.status, 200);
  assert.equal(ext.version, 'outside');
  assert.equal(ext.reqHeaders?.['x-egress'], 'yes');
  assert.equal(ext.reqHeaders?.['x-forwarded-client-cert'], undefined, 'plain HTTP to an external service');
  const legacy = await send('http://legacy:9080/vm');
  assert.equal(legacy.status, 200);
  assert.equal(legacy.version, 'v2');
  assert.match(legacy.reqHeaders?.['x-forwarded-client-cert'] ?? '', /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage/);
});

test('B3 and W3C trace headers propagate to the app unchanged', async () => {
  await apply([]);
  const r = await send('http://reviews:9080/trace', { 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  assert.equal(r.reqHeaders?.['x-b3-traceid'], '463ac35c9f6413ad48485a3953bb6124');
  assert.equal(r.reqHeaders?.['x-b3-spanid'], 'a2fb4a1d1a96d312');
  assert.equal(r.reqHeaders?.['x-b3-sampled'], '1');
  assert.equal(r.reqHeaders?.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
});
