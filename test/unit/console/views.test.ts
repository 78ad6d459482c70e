// The console's pure views: the service graph (topology, traffic, health, mTLS, layout), the
// config view (file:line, errors first), the certificates view (time until rotation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, healthOf, serviceId, workloadId } from '../../../console/src/views/graph.js';
import { buildConfigView } from '../../../console/src/views/config.js';
import { buildCertsView, formatDuration } from '../../../console/src/views/certs.js';
import { edge, edges, host, proxies, registry } from './fixtures.js';

test('health follows Kiali thresholds', () => {
  assert.equal(healthOf(0, 0), 'idle');
  assert.equal(healthOf(0, 1), 'healthy');
  assert.equal(healthOf(0.001, 1), 'degraded');
  assert.equal(healthOf(0.2, 1), 'failing');
});

test('the graph holds Bookinfo: workloads, services, traffic and membership edges, laid out by call depth', () => {
  const g = buildGraph({ registry, proxies, edges, now: new Date(0) });
  assert.deepEqual(g.missing, []);
  const ids = new Set(g.nodes.map((n) => n.id));
  for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1', 'istio-ingressgateway']) assert.ok(ids.has(workloadId('default', w)), w);
  for (const s of ['productpage', 'details', 'reviews', 'ratings']) assert.ok(ids.has(serviceId(host(s))), s);
  assert.equal(g.nodes.find((n) => n.name === 'istio-ingressgateway')!.kind, 'gateway');

  const e = (from: string, to: string) => g.edges.find((x) => x.from === from && x.to === to);
  const toReviews = e(workloadId('default', 'productpage-v1'), serviceId(host('reviews')))!;
  assert.ok(toReviews.traffic);
  assert.equal(toReviews.rps, 2, 'the caller -> service hop sums the versions');
  assert.equal(toReviews.errorRate, 0.25);
  assert.equal(toReviews.p99Ms, 90, 'worst p99 of the aggregated edges');
  assert.equal(toReviews.health, 'failing');
  assert.equal(toReviews.mtls, true);
  assert.equal(e(serviceId(host('reviews')), workloadId('default', 'reviews-v2'))!.errorRate, 0.5);
  assert.equal(e(workloadId('default', 'reviews-v2'), serviceId(host('ratings')))!.mtls, false, 'half plaintext is no lock');
  const idle = e(serviceId(host('reviews')), workloadId('default', 'reviews-v3'))!;
  assert.equal(idle.traffic, false, 'reviews-v3 is behind reviews even without traffic');

  const node = (w: string) => g.nodes.find((n) => n.id === workloadId('default', w))!;
  assert.equal(node('reviews-v2').health, 'failing');
  assert.equal(node('details-v1').health, 'healthy');
  const col = (w: string) => node(w).column;
  assert.ok(col('istio-ingressgateway') < col('productpage-v1'));
  assert.ok(col('productpage-v1') < col('reviews-v2'));
  assert.ok(col('reviews-v2') < col('ratings-v1'));
  assert.ok(g.width > 0 && g.height > 0);
  for (const n of g.nodes) assert.ok(n.x > 0 && n.x < g.width && n.y > 0 && n.y < g.height, `${n.id} inside the canvas`);
});

test('a NACKed proxy degrades its workload and says why; a missing mixer leaves the topology', () => {
  const nacked = proxies.map((p) => (p.workload === 'ratings-v1' ? { ...p, status: 'NACKED' as const, error: 'route 9080: unknown cluster' } : p));
  const g = buildGraph({ registry, proxies: nacked });
  const ratings = g.nodes.find((n) => n.name === 'ratings-v1')!;
  assert.equal(ratings.health, 'degraded');
  assert.match(ratings.reasons.join(' '), /NACKED its config: route 9080: unknown cluster/);
  assert.deepEqual(g.missing, ['traffic (mixer)']);
  assert.ok(g.edges.every((x) => !x.traffic));
  assert.equal(g.windowSeconds, null);
});

test('a cycle in the traffic cannot hang the layout', () => {
  const g = buildGraph({ edges: { windowSeconds: 30, generatedAt: '', edges: [edge('a-v1', 'b-v1', 'b'), edge('b-v1', 'a-v1', 'a')] } });
  assert.equal(g.nodes.length, 4);
  assert.ok(g.nodes.every((n) => Number.isFinite(n.x) && Number.isFinite(n.y)));
});

test('config view: invalid files first, errors before warnings, Istio message text with file:line', () => {
  const v = buildConfigView({
    version: 'abc', publishedAt: '2026-01-01T00:00:00.000Z',
    files: [
      { file: 'a.yaml', state: 'valid', resources: ['VirtualService default/a'], messages: [] },
      {
        file: 'broken.yaml', state: 'invalid', servingLastGood: true, resources: ['VirtualService default/broken'], messages: [
          { code: 'IST0133', level: 'Warning', message: 'unknown field', file: 'broken.yaml', line: 3 },
          { code: 'IST0106', level: 'Error', message: 'weight must be at most 100', resource: 'VirtualService default/broken', file: 'broken.yaml', line: 12, field: 'spec.http[0].route[0].weight' },
        ],
      },
    ],
    messages: [
      { code: 'IST0101', level: 'Error', message: 'Referenced host not found: "reviewz"', resource: 'VirtualService default/a', file: 'a.yaml', line: 7 },
      // Repeated from broken.yaml's own list: counted once.
      { code: 'IST0106', level: 'Error', message: 'weight must be at most 100', resource: 'VirtualService default/broken', file: 'broken.yaml', line: 12 },
    ],
  }, ['DestinationRule default/x: subset v9 has no endpoints']);
  assert.deepEqual(v.files.map((f) => f.file), ['broken.yaml', 'a.yaml']);
  const broken = v.files[0]!;
  assert.equal(broken.errors, 1);
  assert.equal(broken.warnings, 1);
  assert.equal(broken.servingLastGood, true);
  assert.equal(broken.messages[0]!.text, 'Error [IST0106] (VirtualService default/broken broken.yaml:12) weight must be at most 100');
  assert.deepEqual(v.totals, { files: 2, invalid: 1, resources: 2, errors: 2, warnings: 1 });
  assert.equal(v.pilotProblems.length, 1);
  assert.deepEqual(buildConfigView(undefined).files, []);
});

test('certificates view: the newest cert per proxy, expiry and time until rotation at half-life', () => {
  const now = new Date('2026-01-01T12:00:00.000Z');
  const v = buildCertsView({
    issuedTotal: 3,
    certs: [
      { serial: '02', spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', proxyId: 'reviews-v1-a.default', notBefore: '2026-01-01T06:00:00.000Z', notAfter: '2026-01-02T06:00:00.000Z', issuedAt: '2026-01-01T06:00:00.000Z' },
      { serial: '01', spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', proxyId: 'reviews-v1-a.default', notBefore: '2025-12-31T06:00:00.000Z', notAfter: '2026-01-01T06:00:00.000Z', issuedAt: '2025-12-31T06:00:00.000Z' },
      { serial: '03', spiffeId: 'spiffe://cluster.local/ns/default/sa/sleep', proxyId: 'sleep-b.default', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-01T13:00:00.000Z', issuedAt: '2026-01-01T00:00:00.000Z' },
    ],
  }, { trustDomain: 'cluster.local', signingRoot: { serial: 'r1', subject: 'O=cluster.local', notBefore: '', notAfter: '2036-01-01T00:00:00.000Z' } }, now);
  assert.equal(v.certs.length, 2);
  const reviews = v.certs.find((c) => c.proxy === 'reviews-v1-a.default')!;
  assert.equal(reviews.serial, '02');
  assert.equal(reviews.issuedCount, 2);
  assert.equal(reviews.issuer, 'O=cluster.local');
  assert.equal(reviews.expiresInSeconds, 18 * 3600);
  assert.equal(reviews.rotatesInSeconds, 6 * 3600);
  assert.equal(reviews.state, 'valid');
  const sleep = v.certs.find((c) => c.proxy === 'sleep-b.default')!;
  assert.equal(sleep.state, 'rotation due');
  assert.equal(formatDuration(6 * 3600 + 120), '6h 2m');
  assert.equal(formatDuration(-3), '-3s');
});
