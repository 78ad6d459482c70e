// The pure parts of protocol handling: WebSocket upgrade detection, the TCP SNI, TCP
// authorization semantics, MESH_TCP_UPSTREAMS parsing, and TCP destinations from config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { clusterName, type AuthzPolicy, type ProxyConfig } from '#api';
import { isWebSocketUpgrade } from '../../../sidecar/src/upgrade.js';
import { parseTcpSni, tcpSni } from '../../../sidecar/src/tcp/sni.js';
import { authorizeTcp, tcpPolicies } from '../../../sidecar/src/tcp/authz.js';
import { parseTcpUpstreams, tcpTargets } from '../../../sidecar/src/tcp/outbound.js';
import { compileProxyConfig } from '../../../sidecar/src/compile.js';
import type { DataPlane } from '../../../sidecar/src/data-plane.js';

const req = (headers: Record<string, string>) => ({ headers } as unknown as IncomingMessage);

test('only Connection: upgrade with Upgrade: websocket is a WebSocket upgrade', () => {
  assert.equal(isWebSocketUpgrade(req({ connection: 'Upgrade', upgrade: 'websocket' })), true);
  assert.equal(isWebSocketUpgrade(req({ connection: 'keep-alive, Upgrade', upgrade: 'WebSocket' })), true);
  assert.equal(isWebSocketUpgrade(req({ connection: 'Upgrade', upgrade: 'h2c' })), false);
  assert.equal(isWebSocketUpgrade(req({ upgrade: 'websocket' })), false);
});

test('the TCP SNI names port, subset and host, and parses back; anything else is not TCP', () => {
  const sni = tcpSni(9000, 'v1', 'tcp-echo.default.svc.cluster.local');
  assert.equal(sni, 'outbound_.9000_.v1_.tcp-echo.default.svc.cluster.local');
  assert.deepEqual(parseTcpSni(sni), { port: 9000, subset: 'v1', host: 'tcp-echo.default.svc.cluster.local' });
  assert.deepEqual(parseTcpSni(tcpSni(6379, '', 'redis.default.svc.cluster.local')), { port: 6379, subset: '', host: 'redis.default.svc.cluster.local' });
  assert.equal(parseTcpSni(''), undefined);
  assert.equal(parseTcpSni(false), undefined);
  assert.equal(parseTcpSni('reviews.default.svc.cluster.local'), undefined);
  assert.equal(parseTcpSni('outbound_.99999_._.x'), undefined);
});

const PP = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
const tcpReq = { principal: PP, sourceIp: '10.0.0.7', destinationIp: '10.0.0.9', ports: [9000, 19000] };

test('TCP authorization: principals, namespaces, ipBlocks and ports match', () => {
  const allow: AuthzPolicy = { name: 'a', action: 'ALLOW', rules: [{ from: [{ namespaces: [{ exact: 'default' }], ipBlocks: ['10.0.0.0/24'] }], to: [{ ports: [9000] }] }] };
  assert.equal(authorizeTcp([allow], tcpReq).allowed, true);
  assert.equal(authorizeTcp([allow], { ...tcpReq, sourceIp: '10.9.0.7' }).allowed, false);
  assert.equal(authorizeTcp([allow], { ...tcpReq, ports: [9001] }).allowed, false);
  const denyOther: AuthzPolicy = { name: 'd', action: 'DENY', rules: [{ from: [{ notPrincipals: [{ exact: 'cluster.local/ns/default/sa/bookinfo-productpage' }] }] }] };
  assert.equal(authorizeTcp([denyOther], tcpReq).allowed, true);
  assert.equal(authorizeTcp([denyOther], { ...tcpReq, principal: 'spiffe://cluster.local/ns/default/sa/evil' }).allowed, false);
});

test('TCP authorization: an ALLOW rule with HTTP-only fields never matches; DENY drops them and denies', () => {
  const allowGet: AuthzPolicy = { name: 'allow-get', action: 'ALLOW', rules: [{ from: [{ principals: [{ exact: 'cluster.local/ns/default/sa/bookinfo-productpage' }] }], to: [{ methods: [{ exact: 'GET' }] }] }] };
  assert.equal(authorizeTcp([allowGet], tcpReq).allowed, false, 'ALLOW with methods: no TCP gets through');
  assert.deepEqual(tcpPolicies([allowGet])[0]!.rules, []);
  const allowJwt: AuthzPolicy = { name: 'allow-jwt', action: 'ALLOW', rules: [{ from: [{ requestPrincipals: [{ presence: true }] }] }] };
  assert.equal(authorizeTcp([allowJwt], tcpReq).allowed, false);
  const allowHeader: AuthzPolicy = { name: 'allow-h', action: 'ALLOW', rules: [{ when: [{ key: 'request.headers[x-a]', values: [{ exact: '1' }] }] }] };
  assert.equal(authorizeTcp([allowHeader], tcpReq).allowed, false);

  const denyPath: AuthzPolicy = { name: 'deny-admin', action: 'DENY', rules: [{ to: [{ paths: [{ prefix: '/admin' }], ports: [9000] }] }] };
  assert.equal(authorizeTcp([denyPath], tcpReq).allowed, false, 'DENY on a path denies the whole TCP port');
  assert.equal(authorizeTcp([denyPath], { ...tcpReq, ports: [9001] }).allowed, true, 'other ports are untouched');
  assert.deepEqual(tcpPolicies([denyPath])[0]!.rules, [{ to: [{ ports: [9000] }] }]);
});

test('MESH_TCP_UPSTREAMS: host:servicePort=localPort, short names in the namespace', () => {
  assert.deepEqual(parseTcpUpstreams('redis:6379=16379, tcp-echo.other:9000=19000', 'default'), [
    { host: 'redis.default.svc.cluster.local', port: 6379, localPort: 16379 },
    { host: 'tcp-echo.other.svc.cluster.local', port: 9000, localPort: 19000 },
  ]);
  assert.deepEqual(parseTcpUpstreams('', 'default'), []);
  assert.throws(() => parseTcpUpstreams('redis:6379', 'default'), /MESH_TCP_UPSTREAMS/);
  assert.throws(() => parseTcpUpstreams('redis:0=1', 'default'), /host:servicePort=localPort/);
});

test('TCP destinations: the listener of the service port, its weighted clusters, else the port cluster', () => {
  const host = 'tcp-echo.default.svc.cluster.local';
  const cluster = (subset: string) => ({
    name: clusterName('outbound', 9000, subset, host), type: 'EDS' as const, service: host, port: 9000, protocol: 'TCP' as const,
    lbPolicy: 'ROUND_ROBIN' as const, connectTimeoutMs: 1000, tls: { mode: 'DISABLE' as const },
  });
  const cfg: ProxyConfig = {
    node: { id: 'sleep-1.default', kind: 'sidecar', workload: 'sleep', namespace: 'default', serviceAccount: 'sleep', labels: {} },
    listeners: [
      { name: 'virtualOutbound', kind: 'outbound', port: 15001, protocol: 'HTTP' },
      { name: `${host}_9000`, kind: 'outbound', port: 9000, protocol: 'TCP', service: host, cluster: cluster('v1').name, weightedClusters: [{ name: cluster('v1').name, weight: 80 }, { name: cluster('v2').name, weight: 20 }] },
    ],
    routes: [], clusters: [cluster(''), cluster('v1'), cluster('v2')], endpoints: [], outboundTrafficPolicy: 'ALLOW_ANY',
  };
  const plane = { current: compileProxyConfig(cfg, 'v1') } as unknown as DataPlane;
  assert.deepEqual(tcpTargets(plane, { host, port: 9000, localPort: 0 }).map((t) => [t.cluster.name, t.weight]), [[cluster('v1').name, 80], [cluster('v2').name, 20]]);
  assert.equal(plane.current!.outbound?.name, 'virtualOutbound', 'a TCP listener never replaces the HTTP outbound listener');
  // No TCP listener (an older pilot): the service port's own cluster.
  const bare = { current: compileProxyConfig({ ...cfg, listeners: [cfg.listeners[0]!] }, 'v2') } as unknown as DataPlane;
  assert.deepEqual(tcpTargets(bare, { host, port: 9000, localPort: 0 }).map((t) => t.cluster.name), [cluster('').name]);
  // A weighted cluster the config lacks is a NACK, not a dangling reference.
  const bad = { ...cfg, listeners: [cfg.listeners[0]!, { ...cfg.listeners[1]!, weightedClusters: [{ name: 'outbound|9000|v9|x', weight: 1 }] }] };
  assert.throws(() => compileProxyConfig(bad, 'v3'), /SC0103/);
});
