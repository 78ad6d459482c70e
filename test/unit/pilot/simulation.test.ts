// Simulation tests (istio pilot/pkg/simulation): send described requests through the
// generated config with the sidecar's own matcher and assert where they land.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration, pickWeightedCluster, type ProxyConfig, type RequestFacts, type RouteAction } from '#api';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { bookinfoPush, REVIEWS_80_20 } from './bookinfo-model.js';

const REVIEWS = 'reviews.default.svc.cluster.local';

/** Where a request ends up: the route configuration is chosen by port, as the sidecar does. */
function simulate(cfg: ProxyConfig, routeConfig: string, req: Partial<RequestFacts> & { authority: string }, random = 0) {
  const rc = cfg.routes.find((r) => r.name === routeConfig);
  assert.ok(rc, `route configuration ${routeConfig} exists`);
  const hit = compileRouteConfiguration(rc).find({ method: 'GET', path: '/', scheme: 'http', headers: {}, ...req });
  if (!hit) return undefined;
  const action = hit.route.action as RouteAction;
  const cluster = action.kind === 'route' ? pickWeightedCluster(action.clusters, random)?.name : undefined;
  const cl = cluster ? cfg.clusters.find((c) => c.name === cluster) : undefined;
  const eps = cluster ? cfg.endpoints.find((e) => e.cluster === cluster)?.endpoints ?? [] : [];
  return { route: hit.route, cluster, clusterExists: !!cl, endpoints: eps };
}

test('reviews:9080 with end-user: jason reaches reviews v2', () => {
  const { push, proxies } = bookinfoPush();
  const cfg = generateProxyConfig(push, proxies.productpage);
  const r = simulate(cfg, '9080', { authority: 'reviews:9080', path: '/reviews/0', headers: { 'end-user': 'jason' } });
  assert.equal(r?.cluster, `outbound|9080|v2|${REVIEWS}`);
  assert.ok(r?.clusterExists);
  assert.deepEqual(r?.endpoints.map((e) => e.workload), ['reviews-v2']);
  assert.equal(r?.route.origin?.virtualService, 'default/reviews');
});

test('reviews without the header reaches v1, by every host spelling', () => {
  const { push, proxies } = bookinfoPush();
  const cfg = generateProxyConfig(push, proxies.productpage);
  for (const authority of ['reviews:9080', 'reviews', 'reviews.default:9080', `${REVIEWS}:9080`]) {
    const r = simulate(cfg, '9080', { authority, path: '/reviews/0', headers: { 'end-user': 'someone' } });
    assert.equal(r?.cluster, `outbound|9080|v1|${REVIEWS}`, authority);
    assert.deepEqual(r?.endpoints.map((e) => e.workload), ['reviews-v1']);
    assert.equal(r?.endpoints[0]?.identity, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  }
});

test('a service without a VirtualService gets the default route to all its endpoints', () => {
  const { push, proxies } = bookinfoPush();
  const cfg = generateProxyConfig(push, proxies.reviewsV2);
  const r = simulate(cfg, '9080', { authority: 'ratings:9080', path: '/ratings/0' });
  assert.equal(r?.cluster, 'outbound|9080||ratings.default.svc.cluster.local');
  assert.equal(r?.endpoints.length, 1);
  const cluster = cfg.clusters.find((c) => c.name === r?.cluster);
  assert.equal(cluster?.tls.mode, 'ISTIO_MUTUAL');
  assert.deepEqual(cluster?.tls.subjectAltNames, ['spiffe://cluster.local/ns/default/sa/bookinfo-ratings']);
  assert.equal(simulate(cfg, '9080', { authority: 'unknown:9080' }), undefined);
});

test('the bookinfo gateway routes /productpage (and /api/v1/products/*) to productpage, nothing else', () => {
  const { push, proxies } = bookinfoPush();
  const cfg = generateProxyConfig(push, proxies.gateway);
  assert.deepEqual(cfg.listeners.map((l) => [l.name, l.routeConfig]), [['0.0.0.0_80', 'http.80']]);
  for (const path of ['/productpage', '/login', '/api/v1/products/0/reviews', '/productpage?u=normal']) {
    const r = simulate(cfg, 'http.80', { authority: 'localhost:8080', path });
    assert.equal(r?.cluster, 'outbound|9080||productpage.default.svc.cluster.local', path);
    assert.deepEqual(r?.endpoints.map((e) => e.workload), ['productpage-v1']);
  }
  assert.equal(simulate(cfg, 'http.80', { authority: 'localhost', path: '/productpage/x' }), undefined);
  assert.equal(simulate(cfg, 'http.80', { authority: 'localhost', path: '/static/x' }), undefined);
});

test('80/20 weights split reviews between v1 and v2', () => {
  const { push, proxies } = bookinfoPush(REVIEWS_80_20);
  const cfg = generateProxyConfig(push, proxies.productpage);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const r = simulate(cfg, '9080', { authority: 'reviews:9080' }, i / 100);
    counts[r!.cluster!] = (counts[r!.cluster!] ?? 0) + 1;
  }
  assert.deepEqual(counts, { [`outbound|9080|v1|${REVIEWS}`]: 80, [`outbound|9080|v2|${REVIEWS}`]: 20 });
});

test('a route to a host the registry does not know yet gets an empty cluster (503 UH), never a dangling reference', async () => {
  const { compileProxyConfig } = await import('../../../sidecar/src/compile.js');
  const { push, proxies } = bookinfoPush(`
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: not-yet-registered, port: {number: 9080}}
`);
  const cfg = generateProxyConfig(push, proxies.productpage);
  const r = simulate(cfg, '9080', { authority: 'ratings:9080' });
  assert.equal(r?.cluster, 'outbound|9080||not-yet-registered.default.svc.cluster.local');
  assert.ok(r?.clusterExists, 'the cluster exists');
  assert.deepEqual(r?.endpoints, []);
  // The sidecar accepts it (before this, such a config was NACKed at every proxy).
  assert.doesNotThrow(() => compileProxyConfig(cfg, 'v1'));
});
