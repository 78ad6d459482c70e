// ServiceEntry hosts are taken as written (Istio): `httpbin.org` and `api.example.com` never
// become `<host>.default.svc.cluster.local`, in the registry, in VirtualService and
// DestinationRule hosts, and in route destinations; and the mesh-wide outbound traffic policy
// (meshConfig.outboundTrafficPolicy) with a Sidecar resource overriding it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration, pickWeightedCluster, type ProxyConfig, type RequestFacts, type RouteAction } from '#api';
import { generateProxyConfig, buildPushContext } from '../../../pilot/src/generate/index.js';
import { resolveHost } from '../../../pilot/src/model/push-context.js';
import { mergeSnapshots } from '../../../pilot/src/registry/aggregate.js';
import { serviceEntriesToRegistry } from '../../../pilot/src/registry/service-entries.js';
import { pilotSettings } from '../../../pilot/src/settings.js';
import { bookinfoProxies, registryOf, parseResources, snapshotOf, DESTINATION_RULE_ALL } from './bookinfo-model.js';

const EXTERNAL = `
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: { name: httpbin-ext }
spec:
  hosts: [httpbin.org]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  location: MESH_EXTERNAL
  resolution: DNS
---
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: { name: api }
spec:
  hosts: [api.example.com, internal]
  ports: [{ number: 8080, name: http }]
  resolution: STATIC
  endpoints: [{ address: 192.0.2.7 }]
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: httpbin-ext }
spec:
  hosts: [httpbin.org]
  http:
  - timeout: 3s
    route:
    - destination: { host: httpbin.org, subset: v1 }
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: httpbin-ext }
spec:
  host: httpbin.org
  trafficPolicy: { connectionPool: { tcp: { maxConnections: 3 } } }
  subsets: [{ name: v1, labels: {} }]
`;

function simulate(cfg: ProxyConfig, routeConfig: string, req: Partial<RequestFacts> & { authority: string }) {
  const rc = cfg.routes.find((r) => r.name === routeConfig);
  const hit = rc && compileRouteConfiguration(rc).find({ method: 'GET', path: '/', scheme: 'http', headers: {}, ...req });
  if (!hit) return undefined;
  const action = hit.route.action as RouteAction;
  const picked = action.kind === 'route' ? pickWeightedCluster(action.clusters, 0) : undefined;
  return { route: hit.route, picked, cluster: picked && cfg.clusters.find((c) => c.name === picked.name) };
}

function mesh(yaml: string, mesh?: { outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY' }) {
  const proxies = bookinfoProxies();
  const resources = [...parseResources(DESTINATION_RULE_ALL), ...parseResources(yaml)];
  const registry = mergeSnapshots([registryOf(Object.values(proxies)), serviceEntriesToRegistry(resources).snapshot]);
  return { push: buildPushContext(snapshotOf(resources), registry, mesh), proxies };
}

test('ServiceEntry hosts with two or more labels are registered as written; a short name is made fully qualified', () => {
  const { snapshot } = serviceEntriesToRegistry(parseResources(EXTERNAL));
  assert.deepEqual(snapshot.services.map((s) => s.hostname).sort(), ['api.example.com', 'httpbin.org', 'internal.default.svc.cluster.local']);
  assert.ok(!snapshot.instances.some((i) => i.service.includes('.org.') || i.service.includes('.com.')));
});

test('resolveHost: a registered host is used as written, others follow the Kubernetes search path', () => {
  const known = new Map([['httpbin.org', {}], ['api.example', {}]]);
  assert.equal(resolveHost('httpbin.org', 'default', known), 'httpbin.org');
  assert.equal(resolveHost('HTTPBIN.org', 'default', known), 'httpbin.org');
  assert.equal(resolveHost('api.example', 'prod', known), 'api.example');
  assert.equal(resolveHost('reviews', 'default', known), 'reviews.default.svc.cluster.local');
  assert.equal(resolveHost('reviews.prod', 'default', known), 'reviews.prod.svc.cluster.local');
  assert.equal(resolveHost('api.example.com', 'default', known), 'api.example.com');
});

test('simulation: VirtualService, DestinationRule and destination on httpbin.org all name outbound|80|v1|httpbin.org', () => {
  const { push, proxies } = mesh(EXTERNAL);
  assert.deepEqual(push.virtualServices.find((v) => v.name === 'httpbin-ext')?.fqdnHosts, ['httpbin.org']);
  assert.equal(push.destinationRule('httpbin.org')?.key, 'default/httpbin-ext');
  const cfg = generateProxyConfig(push, proxies.productpage);
  for (const authority of ['httpbin.org', 'httpbin.org:80']) {
    const hit = simulate(cfg, '80', { authority });
    assert.equal(hit?.picked?.name, 'outbound|80|v1|httpbin.org', authority);
    assert.equal((hit?.route.action as { timeoutMs?: number }).timeoutMs, 3000, 'the VirtualService, not the default route');
    assert.equal(hit?.cluster?.connectionPool?.maxConnections, 3, 'the DestinationRule applies');
  }
  assert.ok(!cfg.clusters.some((c) => c.name.includes('httpbin.org.')), cfg.clusters.map((c) => c.name).join(' '));
  const api = simulate(cfg, '8080', { authority: 'api.example.com:8080' });
  assert.equal(api?.picked?.name, 'outbound|8080||api.example.com');
});

test('mesh-wide outbound traffic policy: REGISTRY_ONLY reaches every sidecar; a Sidecar resource overrides it; default ALLOW_ANY', () => {
  const plain = mesh('');
  assert.equal(generateProxyConfig(plain.push, plain.proxies.productpage).outboundTrafficPolicy, 'ALLOW_ANY');
  const strict = mesh(`
apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata: { name: reviews-open }
spec:
  workloadSelector: { labels: { app: reviews } }
  outboundTrafficPolicy: { mode: ALLOW_ANY }
---
apiVersion: networking.istio.io/v1alpha3
kind: Sidecar
metadata: { name: ratings-scope }
spec:
  workloadSelector: { labels: { app: ratings } }
  egress: [{ hosts: ['./*'] }]
`, { outboundTrafficPolicy: 'REGISTRY_ONLY' });
  assert.equal(generateProxyConfig(strict.push, strict.proxies.productpage).outboundTrafficPolicy, 'REGISTRY_ONLY');
  assert.equal(generateProxyConfig(strict.push, strict.proxies.reviewsV1).outboundTrafficPolicy, 'ALLOW_ANY', 'the Sidecar says ALLOW_ANY');
  assert.equal(generateProxyConfig(strict.push, strict.proxies.ratings).outboundTrafficPolicy, 'REGISTRY_ONLY', 'a Sidecar without a policy keeps the mesh default');
});

test('MESH_OUTBOUND_TRAFFIC_POLICY: ALLOW_ANY by default, REGISTRY_ONLY accepted, anything else refused naming the setting', () => {
  assert.equal(pilotSettings.load({}).outboundTrafficPolicy, 'ALLOW_ANY');
  assert.equal(pilotSettings.load({ MESH_OUTBOUND_TRAFFIC_POLICY: 'REGISTRY_ONLY' }).outboundTrafficPolicy, 'REGISTRY_ONLY');
  assert.throws(() => pilotSettings.load({ MESH_OUTBOUND_TRAFFIC_POLICY: 'DENY' }), /MESH_OUTBOUND_TRAFFIC_POLICY/);
});
