import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteConfiguration, pickWeightedCluster, fqdn, hostAliases, type RouteConfiguration } from '#api';

const rc: RouteConfiguration = {
  name: '9080',
  virtualHosts: [
    {
      name: 'reviews.default.svc.cluster.local:9080',
      domains: hostAliases('reviews.default.svc.cluster.local', 9080),
      routes: [
        { name: 'jason', match: { path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, action: { kind: 'route', clusters: [{ name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 100 }] } },
        { name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'route', clusters: [{ name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 100 }] } },
      ],
    },
    { name: 'wild', domains: ['*.example.com'], routes: [{ name: 'w', match: {}, action: { kind: 'direct', status: 204 } }] },
  ],
};

test('a header match picks its route, anything else falls through to the default', () => {
  const m = compileRouteConfiguration(rc);
  const base = { method: 'GET', path: '/reviews/0', scheme: 'http' as const, headers: {} };
  assert.equal(m.find({ ...base, authority: 'reviews:9080', headers: { 'end-user': 'jason' } })?.route.name, 'jason');
  assert.equal(m.find({ ...base, authority: 'reviews:9080' })?.route.name, 'default');
  assert.equal(m.find({ ...base, authority: 'reviews.default.svc.cluster.local' })?.route.name, 'default');
  assert.equal(m.find({ ...base, authority: 'a.example.com:9080' })?.route.name, 'w');
  assert.equal(m.find({ ...base, authority: 'ratings:9080' }), undefined);
});

test('weighted clusters split by the random draw', () => {
  const clusters = [{ name: 'a', weight: 80 }, { name: 'b', weight: 20 }];
  assert.equal(pickWeightedCluster(clusters, 0.0)?.name, 'a');
  assert.equal(pickWeightedCluster(clusters, 0.79)?.name, 'a');
  assert.equal(pickWeightedCluster(clusters, 0.8)?.name, 'b');
});

test('hosts resolve relative to the namespace', () => {
  assert.equal(fqdn('reviews'), 'reviews.default.svc.cluster.local');
  assert.equal(fqdn('reviews.prod'), 'reviews.prod.svc.cluster.local');
  assert.equal(fqdn('reviews.default.svc.cluster.local', 'other'), 'reviews.default.svc.cluster.local');
  assert.equal(fqdn('www.google.com'), 'www.google.com');
});
