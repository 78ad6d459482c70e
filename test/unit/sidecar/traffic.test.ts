// Traffic-management building blocks of the sidecar, without sockets: outlier detection,
// circuit breakers, the ring hash, CORS, mirroring and the passthrough's authority parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { OutlierConfig } from '#api';
import { createBalancer, newEndpointStats, type EndpointRef } from '../../../sidecar/src/balancer.js';
import { OutlierDetector, MAX_EJECTION_TIME_MS } from '../../../sidecar/src/outlier.js';
import { ClusterPool } from '../../../sidecar/src/pool.js';
import { circuitBreakerLayer } from '../../../sidecar/src/layers/circuit-breaker.js';
import { corsLayer } from '../../../sidecar/src/layers/cors.js';
import { mirrorLayer, shadowHost, type ShadowRequest } from '../../../sidecar/src/layers/mirror.js';
import { requestHashKey } from '../../../sidecar/src/layers/balance.js';
import { splitAuthority } from '../../../sidecar/src/passthrough.js';
import { compileProxyConfig, type CompiledCluster } from '../../../sidecar/src/compile.js';
import { newExchange, localResponse, type Exchange, type ProxyResponse, type Service } from '../../../sidecar/src/exchange.js';
import { reviewsConfig, endpoint, reviewsCluster } from '../../support/sidecar-config.js';

function refs(n: number): EndpointRef[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `c|10.0.0.${i + 1}:15006`,
    endpoint: { address: `10.0.0.${i + 1}`, port: 15006, healthy: true },
    stats: newEndpointStats(),
    destination: { workload: `w${i}`, namespace: 'default', app: 'a', version: 'v', principal: '' },
  }));
}

function fakeExchange(headers: Record<string, string> = {}, method = 'GET'): Exchange {
  const req = { method, url: '/', headers: { ...headers }, socket: { remoteAddress: '10.1.1.1' } } as unknown as IncomingMessage;
  const ex = newExchange(req, 'outbound', performance.now());
  ex.authority = 'reviews:9080';
  ex.path = '/reviews/0';
  return ex;
}

const ok: ProxyResponse = { status: 200, headers: {}, body: 'ok' };
const e503: ProxyResponse = { status: 503, headers: {}, body: '' };
const od = (extra: Partial<OutlierConfig> = {}): OutlierConfig => ({ consecutive5xx: 3, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0, ...extra });

test('outlier detection: consecutive 5xx eject at the threshold; a success in between resets the count', () => {
  let now = 1_000_000;
  const eps = refs(3);
  const d = new OutlierDetector(od(), eps, () => now);
  d.report(eps[0]!, e503);
  d.report(eps[0]!, e503);
  d.report(eps[0]!, ok);
  d.report(eps[0]!, e503);
  d.report(eps[0]!, e503);
  assert.equal(eps[0]!.stats.ejectedUntil, 0, 'not ejected: the run was broken by a success');
  d.report(eps[0]!, e503);
  assert.equal(eps[0]!.stats.ejectedUntil, now + 30_000);
  assert.equal(eps[0]!.stats.ejections, 1);
  // Local failures count as 5xx; overflow and a client that left say nothing about the host.
  d.report(eps[1]!, localResponse(503, '', 'UF', 'connect-failure'));
  d.report(eps[1]!, localResponse(503, '', 'UO', 'overflow'));
  d.report(eps[1]!, localResponse(504, '', 'UT', 'timeout'));
  d.report(eps[1]!, localResponse(503, '', 'UC', 'reset'));
  assert.ok(eps[1]!.stats.ejectedUntil > now);
});

test('outlier detection: ejection time grows with each ejection, capped at 300 s, and decays while healthy', () => {
  let now = 0;
  const eps = refs(2);
  const d = new OutlierDetector(od({ consecutive5xx: 1, baseEjectionTimeMs: 100_000, intervalMs: 1000 }), eps, () => now);
  const e = eps[0]!;
  const durations: number[] = [];
  for (let i = 0; i < 4; i++) {
    d.report(e, e503);
    durations.push(e.stats.ejectedUntil - now);
    now = e.stats.ejectedUntil; // back after the ejection
  }
  assert.deepEqual(durations, [100_000, 200_000, MAX_EJECTION_TIME_MS, MAX_EJECTION_TIME_MS]);
  assert.equal(e.stats.ejections, 4);
  // Each interval that passes without a failure forgives one ejection (the interval of the
  // last failure does not count).
  now += 1000; d.report(e, ok);
  assert.equal(e.stats.ejections, 4);
  now += 1000; d.report(e, ok);
  now += 1000; d.report(e, ok);
  assert.equal(e.stats.ejections, 2);
});

test('outlier detection: maxEjectionPercent caps ejections (one may always go); gateway errors have their own threshold', () => {
  const now = 0;
  const eps = refs(4);
  const d = new OutlierDetector(od({ consecutive5xx: 1, maxEjectionPercent: 10 }), eps, () => now);
  for (const e of eps) d.report(e, e503);
  assert.equal(eps.filter((e) => e.stats.ejectedUntil > now).length, 1, '10 % of 4 hosts still ejects one, and only one');
  assert.ok(d.events.some((ev) => ev.type === 'capped'));

  const g = refs(2);
  const gd = new OutlierDetector({ intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0, consecutiveGatewayErrors: 2 }, g, () => now);
  gd.report(g[0]!, { status: 500 });
  gd.report(g[0]!, { status: 500 });
  assert.equal(g[0]!.stats.ejectedUntil, 0, '500 is not a gateway error');
  gd.report(g[0]!, { status: 502 });
  gd.report(g[0]!, { status: 504 });
  assert.ok(g[0]!.stats.ejectedUntil > now);
});

test('balancer: ejected endpoints are skipped; below minHealthPercent it panics and uses them all', () => {
  const now = 1000;
  const eps = refs(4);
  eps[0]!.stats.ejectedUntil = now + 1;
  eps[1]!.stats.ejectedUntil = now + 1;
  eps[2]!.stats.ejectedUntil = now + 1;
  const strict = createBalancer('ROUND_ROBIN', eps, { now: () => now });
  assert.deepEqual(Array.from({ length: 4 }, () => strict.pick()?.endpoint.address), Array(4).fill('10.0.0.4'));
  const panic = createBalancer('ROUND_ROBIN', eps, { now: () => now, minHealthPercent: 50 });
  assert.equal(new Set(Array.from({ length: 4 }, () => panic.pick()?.endpoint.address)).size, 4);
  const ignoring = createBalancer('ROUND_ROBIN', eps, { now: () => now, ignoreEjections: true });
  assert.equal(new Set(Array.from({ length: 4 }, () => ignoring.pick()?.endpoint.address)).size, 4);
});

test('RANDOM spreads picks; LEAST_REQUEST avoids the busy endpoint', () => {
  const eps = refs(3);
  let x = 0;
  const seq = () => { x = (x + 0.37) % 1; return x; };
  const random = createBalancer('RANDOM', eps, seq);
  const counts = new Map<string, number>();
  for (let i = 0; i < 300; i++) { const a = random.pick()!.endpoint.address; counts.set(a, (counts.get(a) ?? 0) + 1); }
  assert.equal(counts.size, 3);
  eps[0]!.stats.active = 10;
  const least = createBalancer('LEAST_REQUEST', eps, seq);
  for (let i = 0; i < 50; i++) assert.notEqual(least.pick()!.endpoint.address, '10.0.0.1');
});

test('ring hash: a key always maps to one endpoint, keys spread, and an ejected endpoint moves only its own keys', () => {
  const eps = refs(4);
  const b = createBalancer('ROUND_ROBIN', eps, { consistentHash: { header: 'x-user', minimumRingSize: 1024 } });
  const owner = new Map<number, string>();
  const spread = new Map<string, number>();
  for (let k = 0; k < 2000; k++) {
    const h = (k * 2654435761) >>> 0;
    const a = b.pick(h)!.endpoint.address;
    assert.equal(b.pick(h)!.endpoint.address, a);
    owner.set(h, a);
    spread.set(a, (spread.get(a) ?? 0) + 1);
  }
  for (const n of spread.values()) assert.ok(n > 2000 * 0.15, `each endpoint gets a fair share (${[...spread.values()]})`);
  eps[0]!.stats.ejectedUntil = Date.now() + 60_000;
  for (const [h, a] of owner) {
    const now = b.pick(h)!.endpoint.address;
    if (a !== '10.0.0.1') assert.equal(now, a, 'keys of healthy endpoints stay put');
    else assert.notEqual(now, '10.0.0.1');
  }
});

test('hash keys: header, cookie (issued with ttl when absent), source ip, query parameter', () => {
  assert.equal(requestHashKey(fakeExchange({ 'x-user': 'jason' }), { header: 'x-user' }), 'jason');
  assert.equal(requestHashKey(fakeExchange(), { header: 'x-user' }), undefined);
  assert.equal(requestHashKey(fakeExchange({ cookie: 'a=1; session=abc' }), { cookie: { name: 'session', ttlMs: 60_000 } }), 'abc');
  const ex = fakeExchange();
  const issued = requestHashKey(ex, { cookie: { name: 'session', ttlMs: 60_000, path: '/app' } });
  assert.match(issued!, /^[0-9a-f]{16}$/);
  assert.equal(ex.issuedCookie, `session=${issued}; Path=/app; Max-Age=60; HttpOnly`);
  assert.equal(requestHashKey(fakeExchange(), { cookie: { name: 'session' } }), undefined, 'no ttl: no cookie issued');
  assert.equal(requestHashKey(fakeExchange(), { sourceIp: true }), '10.1.1.1');
  const q = fakeExchange();
  q.path = '/x?user=7&b=2';
  assert.equal(requestHashKey(q, { queryParameter: 'user' }), '7');
});

test('circuit breaker pool: active up to the limit, then pending, then overflow; cancel leaves the queue', async () => {
  const pool = new ClusterPool({ maxConnections: 1, maxPendingRequests: 1 });
  assert.deepEqual(pool.acquire(), { granted: true });
  const queued = pool.acquire();
  assert.ok('queued' in queued);
  assert.deepEqual(pool.acquire(), { granted: false });
  assert.equal(pool.stats().overflows, 1);
  pool.release();
  assert.equal(await queued.queued, true);
  assert.deepEqual(pool.stats(), { active: 1, pending: 0, retries: 0, overflows: 1, retryOverflows: 0 });
  const again = pool.acquire();
  assert.ok('queued' in again);
  again.cancel();
  assert.equal(await again.queued, false);
  assert.equal(pool.stats().pending, 0);
  // maxRetries bounds concurrent retries.
  const r = new ClusterPool({ maxRetries: 1 });
  assert.equal(r.tryRetry(), true);
  assert.equal(r.tryRetry(), false);
  r.retryDone();
  assert.equal(r.tryRetry(), true);
});

test('circuit breaker layer answers 503 UO on overflow and releases the slot when the response ends', async () => {
  const compiled = compileProxyConfig(reviewsConfig('p', { v1: [endpoint('127.0.0.1', 1, 'v1')], v2: [] }, {
    clusters: [reviewsCluster(''), reviewsCluster('v1', { connectionPool: { maxConnections: 1, maxPendingRequests: 1 } }), reviewsCluster('v2')],
  }), 'v');
  const cluster = compiled.clusters.get('outbound|9080|v1|reviews.default.svc.cluster.local') as CompiledCluster;
  assert.ok(cluster.pool, 'a cluster with limits has a pool');
  assert.equal(compiled.clusters.get('outbound|9080|v2|reviews.default.svc.cluster.local')!.pool, undefined);
  const releases: ((r: ProxyResponse) => void)[] = [];
  const upstream: Service = () => new Promise((r) => { releases.push(r); });
  const svc = circuitBreakerLayer(upstream);
  const ex = () => { const e = fakeExchange(); e.cluster = cluster; return e; };
  const first = svc(ex());
  const second = svc(ex());
  const third = await svc(ex());
  assert.equal(third.status, 503);
  assert.equal(third.flag, 'UO');
  assert.deepEqual([releases.length, cluster.pool!.stats().pending], [1, 1], 'one in flight, one pending');
  releases[0]!(ok);
  await first;
  await new Promise((r) => setImmediate(r));
  assert.equal(releases.length, 2, 'the pending request went out when the slot freed');
  releases[1]!(ok);
  await second;
  assert.equal(cluster.pool!.stats().active, 0);
});

test('cors: allowed preflight answered by the proxy, other origins pass through untouched', async () => {
  const calls: string[] = [];
  const upstream: Service = (ex) => { calls.push(ex.method); return Promise.resolve({ status: 200, headers: {}, body: '' }); };
  const svc = corsLayer({ allowOrigins: [{ regex: 'https?://.*\\.ok\\.example' }], allowMethods: ['GET'], maxAgeSeconds: 600 })(upstream);
  const pre = await svc(fakeExchange({ origin: 'https://a.ok.example', 'access-control-request-method': 'GET' }, 'OPTIONS'));
  assert.equal(pre.headers['access-control-allow-origin'], 'https://a.ok.example');
  assert.equal(pre.headers['access-control-max-age'], '600');
  assert.deepEqual(calls, []);
  const foreign = await svc(fakeExchange({ origin: 'https://evil.example', 'access-control-request-method': 'GET' }, 'OPTIONS'));
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  assert.deepEqual(calls, ['OPTIONS']);
});

test('mirror: the copy goes to the mirror cluster with a -shadow host; the client gets the primary answer', async () => {
  const compiled = compileProxyConfig(reviewsConfig('p', { v1: [endpoint('127.0.0.1', 1, 'v1')], v2: [endpoint('127.0.0.1', 2, 'v2')] }), 'v');
  const v2 = compiled.clusters.get('outbound|9080|v2|reviews.default.svc.cluster.local')!;
  const copies: [string, ShadowRequest][] = [];
  let draw = 0.3;
  const svc = mirrorLayer({ cluster: v2, percent: 50 }, (c, r) => copies.push([c.name, r]), () => draw)(() => Promise.resolve(ok));
  const ex = fakeExchange({ host: 'reviews:9080', 'x-request-id': 'r1' });
  assert.equal(await svc(ex), ok);
  assert.equal(copies.length, 1);
  assert.equal(copies[0]![0], v2.name);
  assert.equal(copies[0]![1].headers.host, 'reviews-shadow:9080');
  assert.equal(copies[0]![1].headers['x-request-id'], 'r1');
  assert.equal(ex.headers.host, 'reviews:9080', 'the primary keeps its host');
  draw = 0.7;
  await svc(fakeExchange());
  assert.equal(copies.length, 1, 'outside mirrorPercentage: no copy');
  assert.equal(shadowHost('reviews'), 'reviews-shadow');
  assert.equal(shadowHost('[::1]:80'), '[::1]-shadow:80');
});

test('passthrough authorities: host and port, default 80, IPv6 brackets; garbage refused', () => {
  assert.deepEqual(splitAuthority('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(splitAuthority('example.test'), { host: 'example.test', port: 80 });
  assert.deepEqual(splitAuthority('[::1]:9'), { host: '::1', port: 9 });
  assert.equal(splitAuthority('a b:1'), undefined);
  assert.equal(splitAuthority('host:99999'), undefined);
});

test('compile refuses bad traffic policy values with a code and the place', () => {
  const bad = (extra: Parameters<typeof reviewsCluster>[1]) => () => compileProxyConfig(reviewsConfig('p', { v1: [], v2: [] }, { clusters: [reviewsCluster(''), reviewsCluster('v1', extra), reviewsCluster('v2')] }), 'v');
  assert.throws(bad({ outlier: { intervalMs: 1, baseEjectionTimeMs: 1, maxEjectionPercent: 150, minHealthPercent: 0 } }), /SC0104.*outlier\.maxEjectionPercent/);
  assert.throws(bad({ connectionPool: { maxConnections: -1 } }), /SC0104.*connectionPool\.maxConnections/);
  assert.throws(bad({ consistentHash: {} }), /SC0104.*consistentHash/);
  assert.throws(() => compileProxyConfig({ ...reviewsConfig('p', { v1: [], v2: [] }), outboundTrafficPolicy: 'NOPE' as 'ALLOW_ANY' }, 'v'), /SC0104.*outboundTrafficPolicy/);
});
