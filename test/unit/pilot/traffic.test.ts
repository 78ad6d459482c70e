// Traffic management in pilot: ServiceEntry/WorkloadEntry as a registry, Sidecar scoping and
// outbound traffic policy, and simulation of described requests through generated config
// with the sidecar's own matcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration, pickWeightedCluster, type ProxyConfig, type RequestFacts, type Resource, type RouteAction } from '#api';
import { generateProxyConfig, buildPushContext } from '../../../pilot/src/generate/index.js';
import { mergeSnapshots } from '../../../pilot/src/registry/aggregate.js';
import { serviceEntriesToRegistry } from '../../../pilot/src/registry/service-entries.js';
import { jsonVersion } from '../../../pilot/src/push/version.js';
import {
  bookinfoProxies, registryOf, parseResources, snapshotOf, BOOKINFO_GATEWAY, DESTINATION_RULE_ALL, REVIEWS_JASON_V2,
} from './bookinfo-model.js';

const SERVICE_ENTRIES = `
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: external-api }
spec:
  hosts: [api.external.test]
  ports: [{ number: 443, name: https, protocol: HTTPS }, { number: 80, name: http, protocol: HTTP }]
  location: MESH_EXTERNAL
  resolution: STATIC
  endpoints:
  - address: 192.0.2.10
    ports: { http: 8080 }
  - address: 192.0.2.11
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: dns-api }
spec:
  hosts: [dns.external.test]
  ports: [{ number: 80, name: http }]
  resolution: DNS
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: legacy }
spec:
  hosts: [legacy]
  ports: [{ number: 9080, name: http, targetPort: 9999 }]
  location: MESH_INTERNAL
  resolution: STATIC
  workloadSelector: { labels: { app: legacy } }
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: { name: legacy-vm }
spec:
  address: 10.9.9.9
  labels: { app: legacy, version: v1, security.istio.io/tlsMode: istio }
  serviceAccount: legacy-sa
---
apiVersion: networking.istio.io/v1beta1
kind: WorkloadEntry
metadata: { name: other-vm }
spec:
  address: 10.9.9.10
  labels: { app: other }
`;

function simulate(cfg: ProxyConfig, routeConfig: string, req: Partial<RequestFacts> & { authority: string }, random = 0) {
  const rc = cfg.routes.find((r) => r.name === routeConfig);
  if (!rc) return undefined;
  const hit = compileRouteConfiguration(rc).find({ method: 'GET', path: '/', scheme: 'http', headers: {}, ...req });
  if (!hit) return undefined;
  const action = hit.route.action as RouteAction;
  const picked = action.kind === 'route' ? pickWeightedCluster(action.clusters, random) : undefined;
  const cluster = picked ? cfg.clusters.find((c) => c.name === picked.name) : undefined;
  const endpoints = picked ? cfg.endpoints.find((e) => e.cluster === picked.name)?.endpoints ?? [] : [];
  return { route: hit.route, picked, cluster, endpoints };
}

function mesh(extra: string, opts: { extraResources?: Resource[] } = {}) {
  const proxies = bookinfoProxies();
  const resources = [
    ...parseResources(BOOKINFO_GATEWAY), ...parseResources(DESTINATION_RULE_ALL), ...parseResources(extra), ...(opts.extraResources ?? []),
  ];
  const registry = mergeSnapshots([registryOf(Object.values(proxies)), serviceEntriesToRegistry(resources).snapshot]);
  return { push: buildPushContext(snapshotOf(resources), registry), proxies };
}

test('ServiceEntry STATIC, DNS and a WorkloadEntry selected by labels become services and instances', () => {
  const { snapshot, problems } = serviceEntriesToRegistry(parseResources(SERVICE_ENTRIES));
  assert.deepEqual(problems, []);
  const svc = (h: string) => snapshot.services.find((s) => s.hostname === h);
  assert.deepEqual(svc('api.external.test')?.ports.map((p) => [p.port, p.protocol]), [[80, 'HTTP'], [443, 'HTTPS']]);
  assert.equal(svc('api.external.test')?.meshExternal, true);
  const api = snapshot.instances.filter((i) => i.service === 'api.external.test' && i.servicePort === 80);
  assert.deepEqual(api.map((i) => `${i.address}:${i.port}`), ['192.0.2.10:8080', '192.0.2.11:80'], 'named port, else the service port');
  assert.ok(api.every((i) => i.tlsMode === 'disabled' && i.source === 'config'));
  const dns = snapshot.instances.filter((i) => i.service === 'dns.external.test');
  assert.deepEqual(dns.map((i) => `${i.address}:${i.port}`), ['dns.external.test:80'], 'DNS without endpoints resolves the host itself');
  const legacy = snapshot.instances.filter((i) => i.service === 'legacy.default.svc.cluster.local');
  assert.deepEqual(legacy.map((i) => [i.address, i.port, i.tlsMode, i.serviceAccount, i.workload]), [['10.9.9.9', 9999, 'istio', 'legacy-sa', 'legacy-vm']]);
  assert.equal(svc('legacy.default.svc.cluster.local')?.meshExternal, false);

  const broken = serviceEntriesToRegistry(parseResources(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: broken }
spec: { hosts: [x.test], resolution: STATIC }
`));
  assert.match(broken.problems[0]!, /ServiceEntry\/default\/broken: needs hosts and ports/);
});

test('simulation: a VirtualService on a ServiceEntry host routes to its cluster, in plain HTTP to its endpoints', () => {
  const { push, proxies } = mesh(`${SERVICE_ENTRIES}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: external }
spec:
  hosts: [api.external.test]
  http:
  - match: [{ headers: { x-canary: { exact: "1" } } }]
    route: [{ destination: { host: api.external.test, port: { number: 80 } }, headers: { response: { set: { x-egress: canary } } } }]
    timeout: 2s
  - route: [{ destination: { host: api.external.test } }]
`);
  const cfg = generateProxyConfig(push, proxies.productpage);
  const canary = simulate(cfg, '80', { authority: 'api.external.test', headers: { 'x-canary': '1' } });
  assert.equal(canary?.picked?.name, 'outbound|80||api.external.test');
  assert.deepEqual(canary?.picked?.responseHeaders, { set: { 'x-egress': 'canary' } });
  assert.equal(canary?.cluster?.tls.mode, 'DISABLE');
  assert.deepEqual(canary?.endpoints.map((e) => e.address), ['192.0.2.10', '192.0.2.11']);
  assert.equal((canary?.route.action as { timeoutMs?: number }).timeoutMs, 2000);
  const plain = simulate(cfg, '80', { authority: 'api.external.test:80' });
  assert.equal(plain?.route.origin?.index, 1);
  const legacy = simulate(cfg, '9080', { authority: 'legacy:9080' });
  assert.equal(legacy?.cluster?.tls.mode, 'ISTIO_MUTUAL', 'a WorkloadEntry with a sidecar gets mTLS');
  assert.deepEqual(legacy?.cluster?.tls.subjectAltNames, ['spiffe://cluster.local/ns/default/sa/legacy-sa']);
});

const SCOPE_TO_RATINGS = `
apiVersion: networking.istio.io/v1beta1
kind: Sidecar
metadata: { name: reviews-egress }
spec:
  workloadSelector: { labels: { app: reviews } }
  egress: [{ hosts: [./ratings.default.svc.cluster.local] }]
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
`;

test('Sidecar egress hosts limit what a proxy receives; outboundTrafficPolicy follows the Sidecar', () => {
  const { push, proxies } = mesh(`${REVIEWS_JASON_V2}\n---${SCOPE_TO_RATINGS}`);
  const reviews = generateProxyConfig(push, proxies.reviewsV2);
  assert.deepEqual([...new Set(reviews.clusters.filter((c) => c.name.startsWith('outbound')).map((c) => c.service))], ['ratings.default.svc.cluster.local']);
  assert.deepEqual(reviews.routes.find((r) => r.name === '9080')?.virtualHosts.map((v) => v.name), ['ratings.default.svc.cluster.local:9080']);
  assert.equal(reviews.outboundTrafficPolicy, 'REGISTRY_ONLY');
  assert.ok(reviews.clusters.some((c) => c.name === 'inbound|9080||'), 'inbound is not scoped');
  const productpage = generateProxyConfig(push, proxies.productpage);
  assert.equal(productpage.outboundTrafficPolicy, 'ALLOW_ANY', 'the selector does not match productpage');
  assert.ok(productpage.clusters.some((c) => c.service === 'reviews.default.svc.cluster.local'));
});

test('a scoped VirtualService that routes outside the scope still gets its clusters (the config stays consistent)', () => {
  const { push, proxies } = mesh(`${SCOPE_TO_RATINGS}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: ratings-to-details }
spec:
  hosts: [ratings]
  http: [{ route: [{ destination: { host: details } }] }]
`);
  const cfg = generateProxyConfig(push, proxies.reviewsV1);
  const r = simulate(cfg, '9080', { authority: 'ratings:9080' });
  assert.equal(r?.picked?.name, 'outbound|9080||details.default.svc.cluster.local');
  assert.ok(r?.cluster, 'the referenced cluster is present');
  assert.equal(r?.endpoints.length, 1);
});

test('only affected proxies get new config: a reviews change leaves a proxy scoped to ratings untouched', () => {
  const before = mesh(`${REVIEWS_JASON_V2}\n---${SCOPE_TO_RATINGS}`);
  const after = mesh(`${REVIEWS_JASON_V2.replace('jason', 'someone-else')}\n---${SCOPE_TO_RATINGS}`);
  const v = (m: ReturnType<typeof mesh>, p: keyof ReturnType<typeof bookinfoProxies>) => jsonVersion(JSON.stringify(generateProxyConfig(m.push, m.proxies[p])));
  assert.equal(v(before, 'reviewsV1'), v(after, 'reviewsV1'), 'scoped away from reviews: same version, no push');
  assert.notEqual(v(before, 'productpage'), v(after, 'productpage'), 'productpage routes to reviews: new version');
});

test('simulation: port and sourceLabels matches, fault and mirror reach the config the sidecar reads', () => {
  const { push, proxies } = mesh(`
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - match: [{ sourceLabels: { app: reviews, version: v3 } }]
    fault: { abort: { httpStatus: 500, percentage: { value: 50 } }, delay: { fixedDelay: 7s, percentage: { value: 100 } } }
    route: [{ destination: { host: ratings, subset: v1 } }]
  - match: [{ port: 9999 }]
    route: [{ destination: { host: details } }]
  - route: [{ destination: { host: ratings, subset: v1 } }]
    mirror: { host: ratings, subset: v1 }
    mirrorPercentage: { value: 25 }
    corsPolicy: { allowOrigins: [{ exact: "http://a.example" }], allowMethods: [GET] }
`);
  const fromV3 = simulate(generateProxyConfig(push, proxies.reviewsV3), '9080', { authority: 'ratings:9080' });
  assert.deepEqual(fromV3?.route.fault, { delay: { fixedDelayMs: 7000, percent: 100 }, abort: { httpStatus: 500, percent: 50 } });
  const fromV2 = simulate(generateProxyConfig(push, proxies.reviewsV2), '9080', { authority: 'ratings:9080' });
  assert.equal(fromV2?.route.fault, undefined, 'the sourceLabels block is not in v2\'s config');
  assert.equal(fromV2?.route.origin?.index, 2, 'the port 9999 block does not apply on 9080');
  const a = fromV2?.route.action as Extract<RouteAction, { kind: 'route' }>;
  assert.deepEqual(a.mirror, { cluster: 'outbound|9080|v1|ratings.default.svc.cluster.local', percent: 25 });
  assert.deepEqual(fromV2?.route.cors?.allowOrigins, [{ exact: 'http://a.example' }]);
});

test('DestinationRule load balancer and pool settings reach the cluster: consistent hash, RANDOM, circuit breakers, outlier', () => {
  const { push, proxies } = mesh(`
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
# Sorts before destination-rule-all's 'ratings': the first rule for a host wins.
metadata: { name: a-ratings-lb }
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: { consistentHash: { httpCookie: { name: user, ttl: 0s }, minimumRingSize: 64 } }
    connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1, maxRetries: 2 } }
    outlierDetection: { consecutiveGatewayErrors: 3, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100, minHealthPercent: 50 }
  subsets:
  - name: v1
    labels: { version: v1 }
    trafficPolicy: { loadBalancer: { simple: RANDOM } }
`);
  const cfg = generateProxyConfig(push, proxies.productpage);
  const all = cfg.clusters.find((c) => c.name === 'outbound|9080||ratings.default.svc.cluster.local')!;
  assert.deepEqual(all.consistentHash, { cookie: { name: 'user', ttlMs: 0 }, minimumRingSize: 64 });
  assert.deepEqual(all.connectionPool, { maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1, maxRetries: 2 });
  assert.deepEqual(all.outlier, { consecutive5xx: 5, consecutiveGatewayErrors: 3, intervalMs: 1000, baseEjectionTimeMs: 180_000, maxEjectionPercent: 100, minHealthPercent: 50 });
  const v1 = cfg.clusters.find((c) => c.name === 'outbound|9080|v1|ratings.default.svc.cluster.local')!;
  assert.equal(v1.lbPolicy, 'RANDOM');
  assert.equal(v1.consistentHash, undefined, 'the subset\'s loadBalancer replaces the top-level one');
  assert.deepEqual(v1.connectionPool, all.connectionPool, 'other settings are inherited');
});
