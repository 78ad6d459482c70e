// Three real sidecars (productpage client, reviews-v1, reviews-v2 servers) with certificates
// from a test CA, a real nats-server, two tiny upstream apps, and a fake pilot on the bus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import {
  connectBus, createLogger, spiffeId, subjects, clusterName,
  type Bus, type ConfigAck, type ConfigPush, type ProxyAnnouncement, type ProxyConfig, type ProxyDeparture, type ReportBatch, type ReportRecord,
} from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor, freePort } from '../support/wait.js';
import { createTestCa, issueLeaf, type TestCa } from '../support/certs.js';
import { reviewsConfig, endpoint, reviewsCluster, REVIEWS } from '../support/sidecar-config.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';

const log = createLogger('sidecar-test', 'silent');

interface App { server: http.Server; port: number; connections: number; requests: { url: string; headers: http.IncomingHttpHeaders }[] }

async function startApp(version: string): Promise<App> {
  const app: App = { server: http.createServer(), port: 0, connections: 0, requests: [] };
  app.server.on('connection', () => { app.connections++; });
  app.server.on('request', (req, res) => {
    app.requests.push({ url: req.url ?? '', headers: req.headers });
    if (req.url?.startsWith('/status/')) { res.writeHead(Number(req.url.slice(8))); res.end(); return; }
    const body = JSON.stringify({ version, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  app.port = (app.server.address() as AddressInfo).port;
  return app;
}

function workload(name: string, sa: string, labels: Record<string, string>, services: string[], appPorts: string, kind: 'sidecar' | 'gateway' = 'sidecar', portMap = new Map<number, number>()): WorkloadSpec {
  const id = spiffeId('default', sa);
  return {
    kind, proxyId: `${name}-test1.default`, name, namespace: 'default', serviceAccount: sa, labels, services,
    ports: parseAppPorts(appPorts), gatewayPortMap: portMap, spiffeId: id,
    peer: { workload: name, namespace: 'default', app: labels.app ?? name, version: labels.version ?? 'unknown', principal: id },
  };
}

interface Resp { status: number; headers: http.IncomingHttpHeaders; body: string; json?: { version: string; url: string; headers: Record<string, string> } }

function send(port: number, path: string, headers: Record<string, string> = {}, agent?: http.Agent, method = 'GET', body?: string): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const r: Resp = { status: res.statusCode ?? 0, headers: res.headers, body: text };
        if (res.headers['content-type'] === 'application/json') r.json = JSON.parse(text);
        resolve(r);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let nats: NatsServer;
let ca: TestCa;
let pilotBus: Bus;
const buses: Bus[] = [];
const sidecars: Sidecar[] = [];
let v1App: App;
let v2App: App;
let client: Sidecar;
let reviewsV1: Sidecar;
let reviewsV2: Sidecar;
const announcements: ProxyAnnouncement[] = [];
const acks: ConfigAck[] = [];
const departures: ProxyDeparture[] = [];
const records: ReportRecord[] = [];
let nonce = 0;

async function sidecar(w: WorkloadSpec, sa: string, extra: { gatewayBind?: string } = {}): Promise<Sidecar> {
  const bus = await connectBus({ servers: nats.url, name: w.proxyId, log });
  buses.push(bus);
  const leaf = issueLeaf(ca, spiffeId('default', sa));
  const s = await startSidecar({
    workload: w, bus, identity: staticIdentity(leaf), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
    outbound: { bind: '127.0.0.1', port: 0 },
    adminPort: 0,
    gatewayBind: extra.gatewayBind ?? '127.0.0.1',
    register: true,
    heartbeatMs: 60_000,
    reportBatchMs: 20,
    reportBuffer: 1000,
  });
  sidecars.push(s);
  return s;
}

async function push(proxyId: string, config: ProxyConfig, version: string): Promise<ConfigAck> {
  const n = `n${++nonce}`;
  const msg: ConfigPush = { proxyId, version, nonce: n, sentAt: new Date().toISOString(), config };
  pilotBus.publish(subjects.proxyConfig(proxyId), msg);
  return waitFor(() => acks.find((a) => a.nonce === n), { what: `ack of ${n}` });
}

function clientConfig(extra: Partial<{ v1: ReturnType<typeof endpoint>[]; v2: ReturnType<typeof endpoint>[] }> = {}): ProxyConfig {
  return reviewsConfig(client.plane.workload.proxyId, {
    v1: extra.v1 ?? [endpoint('127.0.0.1', reviewsV1.ports.inbound!, 'v1')],
    v2: extra.v2 ?? [endpoint('127.0.0.1', reviewsV2.ports.inbound!, 'v2')],
  });
}

before(async () => {
  nats = await startNats();
  ca = createTestCa();
  pilotBus = await connectBus({ servers: nats.url, name: 'fake pilot', log });
  pilotBus.subscribe<ProxyAnnouncement>(subjects.proxyAnnounce, (m) => { announcements.push(m.data); m.respond({ ok: true }); });
  pilotBus.subscribe<ConfigAck>(subjects.proxyAck, (m) => { acks.push(m.data); });
  pilotBus.subscribe<ProxyDeparture>(subjects.proxyDepart, (m) => { departures.push(m.data); });
  pilotBus.subscribe<ReportBatch>(subjects.telemetryReport, (m) => { records.push(...m.data.records); });
  await pilotBus.flush();
  v1App = await startApp('v1');
  v2App = await startApp('v2');
  client = await sidecar(workload('productpage-v1', 'bookinfo-productpage', { app: 'productpage', version: 'v1' }, [], ''), 'bookinfo-productpage');
  reviewsV1 = await sidecar(workload('reviews-v1', 'bookinfo-reviews', { app: 'reviews', version: 'v1' }, ['reviews'], `http:9080:${v1App.port}`), 'bookinfo-reviews');
  reviewsV2 = await sidecar(workload('reviews-v2', 'bookinfo-reviews', { app: 'reviews', version: 'v2' }, ['reviews'], `http:9080:${v2App.port}`), 'bookinfo-reviews');
});

after(async () => {
  for (const s of sidecars) await s.stop();
  for (const b of buses) await b.close();
  await pilotBus.close();
  v1App.server.closeAllConnections();
  v2App.server.closeAllConnections();
  await new Promise((r) => v1App.server.close(r));
  await new Promise((r) => v2App.server.close(r));
  await nats.stop();
});

test('every sidecar announces itself with the ports it bound', async () => {
  const a = await waitFor(() => announcements.find((x) => x.proxyId === reviewsV2.plane.workload.proxyId), { what: 'announcement' });
  assert.equal(a.kind, 'sidecar');
  assert.equal(a.register, true);
  assert.deepEqual(a.inbound, { address: '127.0.0.1', port: reviewsV2.ports.inbound });
  assert.equal(a.outbound?.port, reviewsV2.ports.outbound);
  assert.deepEqual(a.workload.ports, [{ name: 'http', port: 9080, targetPort: v2App.port, protocol: 'HTTP' }]);
  assert.deepEqual(a.workload.labels, { app: 'reviews', version: 'v2' });
});

test('before any config the outbound answers 404 NR', async () => {
  const r = await send(client.ports.outbound!, 'http://reviews:9080/reviews/0');
  assert.equal(r.status, 404);
  const ready = await fetch(`http://127.0.0.1:${client.ports.admin}/ready`);
  assert.equal(ready.status, 503, 'not ready until pilot has pushed a config');
  assert.match(((await ready.json()) as { detail: string }).detail, /no config from pilot/);
});

test('a pushed config is ACKed and routes by header to the right subset over mTLS', async () => {
  const ack = await push(client.plane.workload.proxyId, clientConfig(), 'cfg-1');
  assert.equal(ack.ok, true);
  assert.equal(ack.version, 'cfg-1');
  assert.equal(client.plane.status.version, 'cfg-1');

  const plain = await send(client.ports.outbound!, 'http://reviews:9080/reviews/0?x=1');
  assert.equal(plain.status, 200);
  assert.equal(plain.json?.version, 'v1');
  assert.equal(plain.json?.url, '/reviews/0?x=1');

  const jason = await send(client.ports.outbound!, 'http://reviews:9080/reviews/0', { 'end-user': 'jason' });
  assert.equal(jason.status, 200);
  assert.equal(jason.json?.version, 'v2');

  const h = jason.json!.headers;
  const xfcc = h['x-forwarded-client-cert']!;
  assert.match(xfcc, /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage$/);
  assert.equal(h['x-mesh-peer'], undefined, 'the peer header is stripped before the app');
  assert.match(h['x-request-id']!, /^[0-9a-f-]{36}$/);
  assert.equal(h.host, 'reviews:9080');
});

test('origin-form requests (transparent capture) route by the Host header', async () => {
  const r = await send(client.ports.outbound!, '/reviews/1', { host: 'reviews.default.svc.cluster.local:9080', 'end-user': 'jason' });
  assert.equal(r.status, 200);
  assert.equal(r.json?.version, 'v2');
});

test('paths are normalised once and forwarded as matched; spoofed headers do not pass', async () => {
  const r = await send(client.ports.outbound!, 'http://reviews:9080//reviews/./a/../0', { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-client-cert': 'By=evil', 'x-mesh-peer': 'e30=', 'x-b3-traceid': 'abc', traceparent: '00-1-2-01', 'x-request-id': 'given-id' });
  assert.equal(r.status, 200);
  assert.equal(r.json?.url, '/reviews/0');
  const h = r.json!.headers;
  assert.equal(h['x-forwarded-for'], undefined);
  assert.match(h['x-forwarded-client-cert']!, /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage$/);
  assert.equal(h['x-b3-traceid'], 'abc');
  assert.equal(h.traceparent, '00-1-2-01');
  assert.equal(h['x-request-id'], 'given-id');
  const bad = await send(client.ports.outbound!, 'http://reviews:9080/a%2Fb');
  assert.equal(bad.status, 400);
});

/** A raw HTTP/1.1 exchange (Node's client refuses some of what clients in the wild send). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString()));
    sock.on('error', reject);
  });
}

test('a GET carrying a Trailer header and hop-by-hop headers does not crash the proxy', async () => {
  const raw = await rawRequest(client.ports.outbound!, 'GET http://reviews:9080/trailer HTTP/1.1\r\nHost: reviews:9080\r\nTrailer: x-checksum\r\nTE: trailers\r\nKeep-Alive: timeout=5\r\nConnection: close, x-secret\r\nX-Secret: s\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 200/);
  const h = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).headers as Record<string, string>;
  assert.equal(h.trailer, undefined);
  assert.equal(h['x-secret'], undefined);
  assert.equal(h.te, undefined);
  assert.equal(h['keep-alive'], undefined);
  // The proxy is still up.
  assert.equal((await send(client.ports.outbound!, 'http://reviews:9080/after-trailer')).status, 200);
});

test('request bodies are forwarded', async () => {
  const r = await send(client.ports.outbound!, 'http://reviews:9080/post', { 'content-type': 'text/plain' }, undefined, 'POST', 'hello mesh');
  assert.equal(r.status, 200);
  assert.equal(r.json?.headers['content-length'], '10');
});

test('unknown hosts and ports answer 502 NR under REGISTRY_ONLY', async () => {
  assert.equal((await send(client.ports.outbound!, 'http://ratings:9080/')).status, 502);
  assert.equal((await send(client.ports.outbound!, 'http://reviews:9999/')).status, 502);
});

test('a bad config is NACKed with the reason and traffic keeps flowing on the last good one', async () => {
  const bad = clientConfig();
  (bad.routes[0]!.virtualHosts[0]!.routes[0]!.action as { clusters: { name: string }[] }).clusters[0]!.name = 'outbound|9080|v3|reviews.default.svc.cluster.local';
  const ack = await push(client.plane.workload.proxyId, bad, 'cfg-bad');
  assert.equal(ack.ok, false);
  assert.match(ack.error!, /SC0103.*unknown cluster "outbound\|9080\|v3\|reviews/);
  assert.equal(client.plane.status.version, 'cfg-1');
  const r = await send(client.ports.outbound!, 'http://reviews:9080/reviews/0', { 'end-user': 'jason' });
  assert.equal(r.json?.version, 'v2');
  // The same version again is simply ACKed.
  const again = await push(client.plane.workload.proxyId, clientConfig(), 'cfg-1');
  assert.equal(again.ok, true);
});

test('plaintext to the inbound port fails the TLS handshake', async () => {
  await assert.rejects(send(reviewsV1.ports.inbound!, '/reviews/0', { host: 'reviews:9080' }));
  assert.equal(v1App.requests.filter((r) => r.url === '/plaintext').length, 0);
});

test('a client certificate from a foreign CA, or none, is refused by the inbound', async () => {
  const foreign = issueLeaf(createTestCa('foreign root'), spiffeId('default', 'bookinfo-productpage'));
  const before = v1App.requests.length;
  const attempt = (opts: https.RequestOptions) => new Promise<number>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: reviewsV1.ports.inbound!, path: '/reviews/0', headers: { host: 'reviews:9080' }, ca: ca.certPem, checkServerIdentity: () => undefined, agent: false, ...opts }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
  await assert.rejects(attempt({ key: foreign.keyPem, cert: foreign.certChainPem }));
  await assert.rejects(attempt({}));
  assert.equal(v1App.requests.length, before, 'nothing reached the app');
  // The mesh's own certificate is accepted (the control for the two refusals above).
  const good = issueLeaf(ca, spiffeId('default', 'bookinfo-productpage'));
  assert.equal(await attempt({ key: good.keyPem, cert: good.certChainPem }), 200);
});

test('telemetry batches arrive on the bus with source and destination labels', async () => {
  await send(client.ports.outbound!, 'http://reviews:9080/telemetry-probe', { 'end-user': 'jason' });
  const src = await waitFor(() => records.find((r) => r.reporter === 'source' && r.path === '/telemetry-probe'), { what: 'source record' });
  assert.deepEqual(src.source, { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', principal: spiffeId('default', 'bookinfo-productpage') });
  assert.equal(src.destination.workload, 'reviews-v2');
  assert.equal(src.destination.app, 'reviews');
  assert.equal(src.destination.version, 'v2');
  assert.equal(src.destination.principal, spiffeId('default', 'bookinfo-reviews'));
  assert.equal(src.destination.service, REVIEWS);
  assert.equal(src.destination.serviceName, 'reviews');
  assert.equal(src.destination.serviceNamespace, 'default');
  assert.equal(src.responseCode, 200);
  assert.equal(src.responseFlags, '-');
  assert.equal(src.connectionSecurityPolicy, 'mutual_tls');
  assert.ok(src.responseBytes > 0);
  const dst = await waitFor(() => records.find((r) => r.reporter === 'destination' && r.path === '/telemetry-probe'), { what: 'destination record' });
  assert.deepEqual(dst.source, { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', labels: { app: 'productpage', version: 'v1' }, principal: spiffeId('default', 'bookinfo-productpage') });
  assert.equal(dst.destination.workload, 'reviews-v2');
  assert.equal(dst.destination.service, REVIEWS);
  assert.equal(dst.requestId, src.requestId);
  const nr = await send(client.ports.outbound!, 'http://ratings:9080/nr-probe');
  assert.equal(nr.status, 502);
  const nrRec = await waitFor(() => records.find((r) => r.path === '/nr-probe'), { what: 'NR record' });
  assert.equal(nrRec.responseFlags, 'NR');
  assert.equal(nrRec.responseCode, 502);
});

test('connections are kept alive: many requests, few upstream sockets', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const appBefore = v1App.connections;
  for (let i = 0; i < 60; i++) {
    const r = await send(client.ports.outbound!, `http://reviews:9080/ka/${i}`, {}, agent);
    assert.equal(r.status, 200);
  }
  agent.destroy();
  assert.ok(v1App.connections - appBefore <= 2, `app saw ${v1App.connections - appBefore} new connections for 60 requests`);
  const pools = client.plane.agents.stats();
  assert.ok(pools.mtls.active + pools.mtls.idle <= 3, `client holds ${JSON.stringify(pools.mtls)} mTLS sockets`);
});

test('a dead endpoint is a connect failure (503 UF); retries on connect-failure reach a live one', async () => {
  const dead = await freePort();
  const id = client.plane.workload.proxyId;
  const onlyDead = clientConfig({ v1: [endpoint('127.0.0.1', dead, 'v1')] });
  assert.equal((await push(id, onlyDead, 'cfg-dead')).ok, true);
  const r = await send(client.ports.outbound!, 'http://reviews:9080/dead');
  assert.equal(r.status, 503);
  await waitFor(() => records.find((x) => x.path === '/dead' && x.reporter === 'source' && x.responseFlags === 'UF'), { what: 'UF record' });

  const withRetry = clientConfig({ v1: [endpoint('127.0.0.1', dead, 'v1'), endpoint('127.0.0.1', reviewsV1.ports.inbound!, 'v1')] });
  const route = withRetry.routes[0]!.virtualHosts[0]!.routes[1]!;
  (route.action as { retry?: unknown }).retry = { attempts: 2, retryOn: ['connect-failure'] };
  assert.equal((await push(id, withRetry, 'cfg-retry')).ok, true);
  for (let i = 0; i < 4; i++) {
    const ok = await send(client.ports.outbound!, `http://reviews:9080/retry/${i}`);
    assert.equal(ok.status, 200, `request ${i}`);
    assert.equal(ok.json?.version, 'v1');
  }
  assert.ok(client.plane.counters.retries >= 1);
});

test('an upstream presenting an identity the cluster does not allow is refused (503 UF)', async () => {
  const cfg = clientConfig();
  cfg.clusters = [reviewsCluster(''), reviewsCluster('v1', { tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: [spiffeId('default', 'bookinfo-ratings')] } }), reviewsCluster('v2')];
  assert.equal((await push(client.plane.workload.proxyId, cfg, 'cfg-san')).ok, true);
  const before = v1App.requests.length;
  const r = await send(client.ports.outbound!, 'http://reviews:9080/san');
  assert.equal(r.status, 503);
  assert.equal(v1App.requests.length, before);
  assert.equal((await push(client.plane.workload.proxyId, clientConfig(), 'cfg-2')).ok, true);
});

test('an upstream whose certificate chains to a foreign CA is refused, even with the right SPIFFE id', async () => {
  const rogueCert = issueLeaf(createTestCa('rogue root'), spiffeId('default', 'bookinfo-reviews'));
  let reached = 0;
  const rogue = https.createServer({ key: rogueCert.keyPem, cert: rogueCert.certChainPem }, (_req, res) => { reached++; res.end('rogue'); });
  await new Promise<void>((r) => rogue.listen(0, '127.0.0.1', r));
  const cfg = clientConfig({ v1: [endpoint('127.0.0.1', (rogue.address() as AddressInfo).port, 'v1')] });
  assert.equal((await push(client.plane.workload.proxyId, cfg, 'cfg-rogue')).ok, true);
  const r = await send(client.ports.outbound!, 'http://reviews:9080/rogue');
  assert.equal(r.status, 503);
  assert.equal(reached, 0);
  rogue.closeAllConnections();
  await new Promise((res) => rogue.close(res));
  assert.equal((await push(client.plane.workload.proxyId, clientConfig(), 'cfg-3')).ok, true);
});

test('a rotated workload certificate is used for new connections without dropping traffic', async () => {
  const id = client.plane.identity as ReturnType<typeof staticIdentity>;
  const first = await send(client.ports.outbound!, 'http://reviews:9080/rotate/0');
  const hashBefore = /Hash=([0-9a-f]+)/.exec(first.json!.headers['x-forwarded-client-cert']!)![1];
  id.rotate(issueLeaf(ca, spiffeId('default', 'bookinfo-productpage')));
  const after = await send(client.ports.outbound!, 'http://reviews:9080/rotate/1');
  assert.equal(after.status, 200);
  const hashAfter = /Hash=([0-9a-f]+)/.exec(after.json!.headers['x-forwarded-client-cert']!)![1];
  assert.notEqual(hashAfter, hashBefore, 'the peer saw the new client certificate');
  const server = reviewsV1.plane.identity as ReturnType<typeof staticIdentity>;
  server.rotate(issueLeaf(ca, spiffeId('default', 'bookinfo-reviews')));
  id.rotate(issueLeaf(ca, spiffeId('default', 'bookinfo-productpage')));
  assert.equal((await send(client.ports.outbound!, 'http://reviews:9080/rotate/2')).status, 200);
});

test('route timeout answers 504 and fault abort answers from the proxy', async () => {
  const cfg = clientConfig();
  const vh = cfg.routes[0]!.virtualHosts[0]!;
  vh.routes.unshift(
    { name: 'abort', match: { path: { prefix: '/abort' } }, action: { kind: 'route', clusters: [{ name: clusterName('outbound', 9080, 'v1', REVIEWS), weight: 100 }] }, fault: { abort: { httpStatus: 418, percent: 100 } } },
    { name: 'slow', match: { path: { prefix: '/slow' } }, action: { kind: 'route', clusters: [{ name: clusterName('outbound', 9080, 'v1', REVIEWS), weight: 100 }], timeoutMs: 50 }, fault: { delay: { fixedDelayMs: 400, percent: 100 } } },
    { name: 'moved', match: { path: { exact: '/old' } }, action: { kind: 'redirect', uri: '/new', code: 301 } },
  );
  assert.equal((await push(client.plane.workload.proxyId, cfg, 'cfg-fault')).ok, true);
  assert.equal((await send(client.ports.outbound!, 'http://reviews:9080/abort')).status, 418);
  const moved = await send(client.ports.outbound!, 'http://reviews:9080/old');
  assert.equal(moved.status, 301);
  assert.equal(moved.headers.location, 'http://reviews:9080/new');
  // The delay is outside the timeout (fault runs before it), so the slow route is delayed, then forwarded.
  const slow = await send(client.ports.outbound!, 'http://reviews:9080/slow');
  assert.equal(slow.status, 200);
});

test('the admin API shows config, clusters and stats', async () => {
  const base = `http://127.0.0.1:${client.ports.admin}`;
  const ready = await fetch(`${base}/ready`);
  assert.equal(ready.status, 200);
  const dump = await (await fetch(`${base}/config_dump`)).json() as { version: string; config: ProxyConfig; identity: { spiffeId: string } };
  assert.equal(dump.version, 'cfg-fault');
  assert.equal(dump.identity.spiffeId, spiffeId('default', 'bookinfo-productpage'));
  const clusters = await (await fetch(`${base}/clusters`)).json() as { clusters: { name: string; endpoints: { requests: number }[] }[] };
  const v1 = clusters.clusters.find((c) => c.name === clusterName('outbound', 9080, 'v1', REVIEWS))!;
  assert.ok(v1.endpoints[0]!.requests > 0, 'counters carried across pushes');
  const stats = await (await fetch(`${base}/stats`)).json() as { requests: { outbound: number } };
  assert.ok(stats.requests.outbound > 60);
  const prom = await (await fetch(`${base}/stats/prometheus`)).text();
  assert.match(prom, /mesh_proxy_requests_total\{direction="outbound",proxy="productpage-v1-test1\.default"/);
  assert.equal((await fetch(`${base}/logging?level=warn`, { method: 'POST' })).status, 200);
  assert.equal((await fetch(`${base}/logging?level=loud`, { method: 'POST' })).status, 400);
  assert.equal((await fetch(`${base}/logging?level=silent`, { method: 'POST' })).status, 200);
});

test('gateway mode binds listeners from config, routes with them, and NACKs a bind failure', async () => {
  const gwPort = await freePort();
  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const blocked = (blocker.address() as AddressInfo).port;
  const gw = await sidecar(workload('istio-ingressgateway', 'istio-ingressgateway', { istio: 'ingressgateway' }, [], '', 'gateway', new Map([[8080, gwPort], [8081, blocked]])), 'istio-ingressgateway');
  assert.equal(gw.ports.inbound, undefined);
  const base = clientConfig();
  const cfg: ProxyConfig = {
    ...base,
    node: { ...base.node, id: gw.plane.workload.proxyId, kind: 'gateway' },
    listeners: [{ name: '0.0.0.0_8080', kind: 'gateway', port: 8080, protocol: 'HTTP', routeConfig: 'http.8080', hosts: ['*'] }],
    routes: [{ name: 'http.8080', virtualHosts: [{ name: 'bookinfo', domains: ['*'], routes: [{ name: 'r', match: { path: { prefix: '/reviews' } }, action: { kind: 'route', clusters: [{ name: clusterName('outbound', 9080, 'v2', REVIEWS), weight: 100 }] } }] }] }],
  };
  assert.equal((await push(gw.plane.workload.proxyId, cfg, 'gw-1')).ok, true);
  const r = await send(gwPort, '/reviews/0', { host: 'bookinfo.example', 'x-forwarded-for': '6.6.6.6' });
  assert.equal(r.status, 200);
  assert.equal(r.json?.version, 'v2');
  assert.equal(r.json?.headers['x-forwarded-for'], '127.0.0.1');
  assert.match(r.json!.headers['x-forwarded-client-cert']!, /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/istio-ingressgateway$/);
  assert.equal((await send(gwPort, '/other', { host: 'x' })).status, 404);

  const clash: ProxyConfig = { ...cfg, listeners: [...cfg.listeners, { name: '0.0.0.0_8081', kind: 'gateway', port: 8081, protocol: 'HTTP', routeConfig: 'http.8080' }] };
  const nackd = await push(gw.plane.workload.proxyId, clash, 'gw-2');
  assert.equal(nackd.ok, false);
  assert.match(nackd.error!, /SC0108.*cannot bind/);
  assert.equal((await send(gwPort, '/reviews/1', { host: 'x' })).status, 200, 'the old listener still serves');

  const none: ProxyConfig = { ...cfg, listeners: [] };
  assert.equal((await push(gw.plane.workload.proxyId, none, 'gw-3')).ok, true);
  await waitFor(async () => { try { await send(gwPort, '/reviews/2', { host: 'x' }); return false; } catch { return true; } }, { what: 'gateway listener closed' });
  await new Promise((res) => blocker.close(res));
});

test('a DISABLE cluster reaches a workload without a sidecar in plain HTTP, without mesh metadata', async () => {
  const cfg = clientConfig();
  cfg.clusters = [reviewsCluster(''), reviewsCluster('v1', { tls: { mode: 'DISABLE' } }), reviewsCluster('v2')];
  cfg.endpoints = cfg.endpoints.map((e) => e.cluster === clusterName('outbound', 9080, 'v1', REVIEWS) ? { ...e, endpoints: [endpoint('127.0.0.1', v1App.port, 'v1', { identity: undefined })] } : e);
  assert.equal((await push(client.plane.workload.proxyId, cfg, 'cfg-plain')).ok, true);
  const r = await send(client.ports.outbound!, 'http://reviews:9080/plain');
  assert.equal(r.status, 200);
  assert.equal(r.json?.version, 'v1');
  assert.equal(r.json?.headers['x-mesh-peer'], undefined);
  assert.equal(r.json?.headers['x-forwarded-client-cert'], undefined);
  const rec = await waitFor(() => records.find((x) => x.path === '/plain' && x.reporter === 'source'), { what: 'plain record' });
  assert.equal(rec.connectionSecurityPolicy, 'none');
  assert.equal((await push(client.plane.workload.proxyId, clientConfig(), 'cfg-4')).ok, true);
});

test('PilotHello makes every proxy announce itself again', async () => {
  const before = announcements.filter((a) => a.proxyId === reviewsV1.plane.workload.proxyId).length;
  pilotBus.publish(subjects.pilotHello, { instance: 'pilot-2' });
  const again = await waitFor(() => announcements.filter((a) => a.proxyId === reviewsV1.plane.workload.proxyId).length > before && announcements.at(-1), { what: 're-announcement' });
  assert.ok(again);
  const c = announcements.filter((a) => a.proxyId === client.plane.workload.proxyId).at(-1)!;
  assert.equal(c.servingVersion, 'cfg-4', 'the announcement says which config is served');
});

test('while the bus is down traffic keeps flowing; after it returns proxies announce again', async () => {
  const before = announcements.filter((a) => a.proxyId === client.plane.workload.proxyId).length;
  const port = nats.port;
  await nats.stop();
  const r = await send(client.ports.outbound!, 'http://reviews:9080/bus-down', { 'end-user': 'jason' });
  assert.equal(r.status, 200);
  assert.equal(r.json?.version, 'v2');
  nats = await startNats({ port });
  await waitFor(() => announcements.filter((a) => a.proxyId === client.plane.workload.proxyId).length > before, { what: 'announcement after reconnect', timeoutMs: 15_000 });
  // Pushes work again over the new connection.
  assert.equal((await push(client.plane.workload.proxyId, clientConfig(), 'cfg-5')).ok, true);
});

test('a clean stop sends a departure', async () => {
  const extra = await sidecar(workload('details-v1', 'bookinfo-details', { app: 'details', version: 'v1' }, ['details'], 'http:9080:1'), 'bookinfo-details');
  await extra.stop();
  sidecars.splice(sidecars.indexOf(extra), 1);
  await waitFor(() => departures.find((d) => d.proxyId === extra.plane.workload.proxyId), { what: 'departure' });
});
