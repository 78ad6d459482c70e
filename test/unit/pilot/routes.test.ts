// VirtualService features translated into routes, checked through the shared matcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration, type RequestFacts, type Route } from '#api';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { buildPushContext } from '../../../pilot/src/model/push-context.js';
import { durationMs } from '../../../pilot/src/generate/duration.js';
import { bookinfoProxies, parseResources, registryOf, snapshotOf } from './bookinfo-model.js';

function reviewsRoutes(yaml: string, proxyName: keyof ReturnType<typeof bookinfoProxies> = 'productpage'): Route[] {
  const proxies = bookinfoProxies();
  const push = buildPushContext(snapshotOf(parseResources(yaml)), registryOf(Object.values(proxies)));
  const cfg = generateProxyConfig(push, proxies[proxyName]);
  const vh = cfg.routes.find((r) => r.name === '9080')!.virtualHosts.find((v) => v.name.startsWith('reviews.'))!;
  return vh.routes;
}

function hit(routes: Route[], req: Partial<RequestFacts>): Route | undefined {
  const rc = compileRouteConfiguration({ name: 't', virtualHosts: [{ name: 'r', domains: ['*'], routes }] });
  return rc.find({ method: 'GET', path: '/', authority: 'reviews', scheme: 'http', headers: {}, ...req })?.route;
}

const VS = (http: string) => `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
${http}`;

test('match blocks are ORed; method, authority, withoutHeaders, queryParams and ignoreUriCase', () => {
  const routes = reviewsRoutes(VS(`
  - name: special
    match:
    - method: { exact: POST }
      uri: { prefix: /Reviews }
      ignoreUriCase: true
    - withoutHeaders: { x-skip: {} }
      queryParams: { debug: { exact: "1" } }
      authority: { prefix: reviews }
    route: [{ destination: { host: reviews, subset: v3 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]`));
  assert.equal(routes.length, 3);
  assert.equal(hit(routes, { method: 'POST', path: '/reviews/1' })?.name, 'special');
  assert.equal(hit(routes, { method: 'GET', path: '/reviews/1' })?.name, 'default/reviews#1');
  assert.equal(hit(routes, { path: '/x?debug=1' })?.name, 'special');
  assert.equal(hit(routes, { path: '/x?debug=1', headers: { 'x-skip': 'yes' } })?.name, 'default/reviews#1');
});

test('sourceLabels and gateways filter match blocks per proxy; a filtered route is dropped, not widened', () => {
  const yaml = VS(`
  - match:
    - sourceLabels: { app: productpage }
    route: [{ destination: { host: reviews, subset: v2 } }]
  - match:
    - gateways: [bookinfo-gateway]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]`);
  const fromProductpage = reviewsRoutes(yaml, 'productpage');
  assert.deepEqual(fromProductpage.map((r) => r.origin?.index), [0, 2]);
  const fromRatings = reviewsRoutes(yaml, 'ratings');
  assert.deepEqual(fromRatings.map((r) => r.origin?.index), [2]);
});

test('timeout, retries, fault (percentage and 1.1 percent), mirror, rewrite, headers, cors', () => {
  const [r] = reviewsRoutes(VS(`
  - route:
    - destination: { host: reviews, subset: v1 }
      weight: 90
      headers: { request: { set: { x-dest: v1 } } }
    - destination: { host: reviews, subset: v2 }
      weight: 10
    timeout: 0.5s
    retries: { attempts: 3, perTryTimeout: 100ms, retryOn: "5xx, connect-failure" }
    fault:
      delay: { fixedDelay: 7s, percent: 50 }
      abort: { httpStatus: 503, percentage: { value: 0.1 } }
    mirror: { host: ratings }
    mirrorPercent: 25
    rewrite: { uri: /v2/reviews, authority: reviews-new }
    headers:
      request: { set: { x-a: "1" }, remove: [x-b] }
      response: { add: { x-c: "2" } }
    appendHeaders: { x-legacy: yes }
    removeResponseHeaders: [server]
    corsPolicy:
      allowOrigin: ["https://example.com"]
      allowMethods: [GET]
      maxAge: 24h
      allowCredentials: false`));
  assert.ok(r && r.action.kind === 'route');
  const a = r.action;
  if (a.kind !== 'route') return;
  assert.deepEqual(a.clusters, [
    { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 90, headers: { set: { 'x-dest': 'v1' } } },
    { name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 10 },
  ]);
  assert.equal(a.timeoutMs, 500);
  assert.deepEqual(a.retry, { attempts: 3, perTryTimeoutMs: 100, retryOn: ['5xx', 'connect-failure'] });
  assert.deepEqual(r.fault, { delay: { fixedDelayMs: 7000, percent: 50 }, abort: { httpStatus: 503, percent: 0.1 } });
  assert.deepEqual(a.mirror, { cluster: 'outbound|9080||ratings.default.svc.cluster.local', percent: 25 });
  assert.deepEqual(a.rewrite, { uriPrefix: '/v2/reviews', authority: 'reviews-new' });
  assert.deepEqual(r.requestHeaders, { set: { 'x-a': '1' }, remove: ['x-b'], add: { 'x-legacy': 'yes' } });
  assert.deepEqual(r.responseHeaders, { add: { 'x-c': '2' }, remove: ['server'] });
  assert.deepEqual(r.cors, { allowOrigins: [{ exact: 'https://example.com' }], allowMethods: ['GET'], maxAgeSeconds: 86400, allowCredentials: false });
});

test('redirects, explicit zero retries, and unweighted destinations', () => {
  const routes = reviewsRoutes(VS(`
  - match: [{ uri: { exact: /old } }]
    redirect: { uri: /new, authority: reviews-v2 }
  - retries: { attempts: 0 }
    route: [{ destination: { host: reviews, subset: v1 } }, { destination: { host: reviews, subset: v2 } }, { destination: { host: reviews, subset: v3 } }]`));
  assert.deepEqual(routes[0]?.action, { kind: 'redirect', code: 301, uri: '/new', authority: 'reviews-v2' });
  const a = routes[1]!.action;
  assert.ok(a.kind === 'route' && a.retry === undefined);
  assert.deepEqual(a.kind === 'route' && a.clusters.map((c) => c.weight), [34, 33, 33]);
});

test('durations as Istio writes them', () => {
  assert.equal(durationMs('7s'), 7000);
  assert.equal(durationMs('0.5s'), 500);
  assert.equal(durationMs('100ms'), 100);
  assert.equal(durationMs('1m30s'), 90_000);
  assert.equal(durationMs('1h'), 3_600_000);
  assert.equal(durationMs('soon'), undefined);
  assert.equal(durationMs('5'), undefined);
});
