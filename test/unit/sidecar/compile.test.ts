import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyConfig } from '#api';
import { compileProxyConfig, ConfigError, pickTarget } from '../../../sidecar/src/compile.js';
import { newEndpointStats } from '../../../sidecar/src/balancer.js';
import { reviewsConfig, endpoint, REVIEWS } from '../../support/sidecar-config.js';

const eps = { v1: [endpoint('10.0.0.1', 15006, 'v1')], v2: [endpoint('10.0.0.2', 15006, 'v2')] };
const good = () => reviewsConfig('productpage-v1-abcde.default', eps);

function nack(mutate: (c: ProxyConfig) => void): ConfigError {
  const c = structuredClone(good());
  mutate(c);
  try {
    compileProxyConfig(c, 'bad', { proxyId: 'productpage-v1-abcde.default' });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the config to be refused');
}

test('a pilot-shaped config compiles and routes by header', () => {
  const c = compileProxyConfig(good(), 'v1', { proxyId: 'productpage-v1-abcde.default' });
  assert.equal(c.version, 'v1');
  assert.equal(c.clusters.size, 3);
  const table = c.routeTables.get('9080')!;
  const facts = { method: 'GET', path: '/reviews/0', authority: 'reviews:9080', scheme: 'http' as const, headers: {} };
  const jason = table.routes.get(table.matcher.find({ ...facts, headers: { 'end-user': 'jason' } })!.route)!;
  const other = table.routes.get(table.matcher.find(facts)!.route)!;
  assert.equal(jason.targets[0]!.cluster.name, `outbound|9080|v2|${REVIEWS}`);
  assert.equal(other.targets[0]!.cluster.name, `outbound|9080|v1|${REVIEWS}`);
  const v2 = c.clusters.get(`outbound|9080|v2|${REVIEWS}`)!;
  assert.equal(v2.mtls, true);
  assert.deepEqual([...v2.allowedSans], ['spiffe://cluster.local/ns/default/sa/bookinfo-reviews']);
  assert.deepEqual(v2.endpoints[0]!.destination, { workload: 'reviews-v2', namespace: 'default', app: 'reviews', version: 'v2', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews' });
  assert.equal(v2.serviceName, 'reviews');
});

test('invalid configs are refused with a code and the place', () => {
  const cases: [string, (c: ProxyConfig) => void, RegExp][] = [
    ['dangling cluster', (c) => { (c.routes[0]!.virtualHosts[0]!.routes[0]!.action as { clusters: { name: string }[] }).clusters[0]!.name = 'outbound|9080|v9|x'; }, /SC0103.*routes\[9080\].*unknown cluster "outbound\|9080\|v9\|x"/],
    ['bad regex', (c) => { c.routes[0]!.virtualHosts[0]!.routes[0]!.match.path = { regex: '([' }; }, /SC0105/],
    ['unknown lb', (c) => { (c.clusters[0] as { lbPolicy: string }).lbPolicy = 'FASTEST'; }, /SC0104.*lbPolicy/],
    ['duplicate cluster', (c) => { c.clusters.push(c.clusters[0]!); }, /SC0102/],
    ['endpoints of unknown cluster', (c) => { c.endpoints.push({ cluster: 'nope', endpoints: [] }); }, /SC0107/],
    ['bad endpoint port', (c) => { c.endpoints[1]!.endpoints[0]!.port = 70000; }, /SC0104.*invalid port/],
    ['fault percent', (c) => { c.routes[0]!.virtualHosts[0]!.routes[0]!.fault = { abort: { httpStatus: 503, percent: 150 } }; }, /SC0104.*percentage/],
    ['listener with unknown route config', (c) => { c.listeners.push({ name: '0.0.0.0_8080', kind: 'gateway', port: 8080, protocol: 'HTTP', routeConfig: 'http.8080' }); }, /SC0106/],
    ['config for another proxy', (c) => { c.node.id = 'someone-else'; }, /SC0101/],
    ['not a list', (c) => { (c as unknown as { clusters: unknown }).clusters = {}; }, /SC0100/],
    ['header injection', (c) => { c.routes[0]!.virtualHosts[0]!.routes[0]!.requestHeaders = { set: { 'x-a': 'b\r\nx-evil: 1' } }; }, /SC0104.*header x-a/],
    ['redirect code', (c) => { c.routes[0]!.virtualHosts[0]!.routes[0]!.action = { kind: 'redirect', code: 200 }; }, /SC0104.*redirect code/],
  ];
  for (const [what, mutate, want] of cases) assert.match(nack(mutate).message, want, what);
});

test('endpoint counters survive a recompile through statsFor', () => {
  const store = new Map<string, ReturnType<typeof newEndpointStats>>();
  const statsFor = (k: string) => { let s = store.get(k); if (!s) { s = newEndpointStats(); store.set(k, s); } return s; };
  const a = compileProxyConfig(good(), 'a', { statsFor });
  a.clusters.get(`outbound|9080|v1|${REVIEWS}`)!.endpoints[0]!.stats.requests = 7;
  const b = compileProxyConfig(good(), 'b', { statsFor });
  assert.equal(b.clusters.get(`outbound|9080|v1|${REVIEWS}`)!.endpoints[0]!.stats.requests, 7);
});

test('weighted targets split by the draw', () => {
  const cfg = good();
  cfg.routes[0]!.virtualHosts[0]!.routes = [{ name: 'split', match: {}, action: { kind: 'route', clusters: [{ name: `outbound|9080|v1|${REVIEWS}`, weight: 80 }, { name: `outbound|9080|v2|${REVIEWS}`, weight: 20 }] } }];
  const c = compileProxyConfig(cfg, 'w');
  const route = [...c.routeTables.get('9080')!.routes.values()][0]!;
  assert.equal(pickTarget(route, 0.79)!.cluster.name, `outbound|9080|v1|${REVIEWS}`);
  assert.equal(pickTarget(route, 0.8)!.cluster.name, `outbound|9080|v2|${REVIEWS}`);
});

test('clusters with the same TLS peers share one pool key', () => {
  const c = compileProxyConfig(good(), 'p');
  const keys = new Set([...c.clusters.values()].map((x) => x.poolKey));
  assert.equal(keys.size, 1);
});
