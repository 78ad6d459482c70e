// Pilot's security generation: PeerAuthentication scopes (narrowest wins, UNSET inherits,
// portLevelMtls), policy selection, conversion, auto mTLS; and Istio's authorization task on
// Bookinfo simulated hop by hop with the sidecar's own matcher (pilot's output -> authorize()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spiffeId, type ProxyAnnouncement } from '#api';
import { buildPushContext } from '../../../pilot/src/model/push-context.js';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { buildInboundPolicy, peerAuthentication, stringMatch } from '../../../pilot/src/generate/security.js';
import { authorize, type AuthzRequest } from '../../../sidecar/src/layers/authz.js';
import { bookinfoProxies, bookinfoPush, parseResources, registryOf, snapshotOf } from '../pilot/bookinfo-model.js';

function pushWith(yaml: string) {
  const proxies = bookinfoProxies();
  const push = buildPushContext(snapshotOf(parseResources(yaml, 'security.yaml')), registryOf(Object.values(proxies)));
  return { push, proxies };
}

const PA = (ns: string, name: string, mode: string, extra = '') => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ${name}, namespace: ${ns} }
spec:
  mtls: { mode: ${mode} }
${extra}
---`;

test('no PeerAuthentication: PERMISSIVE, as Istio', () => {
  const { push, proxies } = pushWith('');
  assert.equal(peerAuthentication(push, proxies.reviewsV1).mode, 'PERMISSIVE');
});

test('mesh, namespace and workload scope: the narrowest wins; UNSET inherits', () => {
  const workload = PA('default', 'reviews-only', 'DISABLE', '  selector: { matchLabels: { app: reviews } }');
  const { push, proxies } = pushWith(PA('istio-system', 'default', 'STRICT') + PA('default', 'ns', 'PERMISSIVE') + workload);
  assert.equal(peerAuthentication(push, proxies.reviewsV1).mode, 'DISABLE');
  assert.equal(peerAuthentication(push, proxies.ratings).mode, 'PERMISSIVE');
  const meshOnly = pushWith(PA('istio-system', 'default', 'STRICT') + PA('default', 'ns', 'UNSET'));
  assert.equal(peerAuthentication(meshOnly.push, meshOnly.proxies.ratings).mode, 'STRICT');
  // A policy in another namespace does not apply.
  const other = pushWith(PA('other', 'ns', 'DISABLE'));
  assert.equal(peerAuthentication(other.push, other.proxies.ratings).mode, 'PERMISSIVE');
});

test('portLevelMtls applies on workload policies, keyed by the workload port, shown by service port', () => {
  const yaml = PA('default', 'reviews', 'STRICT', `  selector: { matchLabels: { app: reviews } }
  portLevelMtls:
    "19080": { mode: PERMISSIVE }`);
  const { push, proxies } = pushWith(yaml);
  assert.deepEqual(peerAuthentication(push, proxies.reviewsV1).ports, { 9080: 'PERMISSIVE' });
  // Without a selector Istio ignores portLevelMtls.
  const ns = pushWith(PA('default', 'ns', 'STRICT', `  portLevelMtls:
    "19080": { mode: DISABLE }`));
  assert.equal(peerAuthentication(ns.push, ns.proxies.reviewsV1).ports, undefined);
});

test('the generated config carries the policy and shows the mode on the inbound listener', () => {
  const { push, proxies } = pushWith(PA('istio-system', 'default', 'STRICT'));
  const cfg = generateProxyConfig(push, proxies.reviewsV1);
  assert.equal(cfg.inboundPolicy?.mtls.mode, 'STRICT');
  assert.equal(cfg.listeners.find((l) => l.kind === 'inbound')?.mtlsMode, 'STRICT');
  assert.deepEqual(cfg.inboundPolicy?.origins, ['PeerAuthentication/istio-system/default']);
  assert.equal(generateProxyConfig(push, proxies.gateway).inboundPolicy, undefined);
});

test('auto mTLS: clients send plaintext to services whose workloads are all DISABLE, unless a DestinationRule says otherwise', () => {
  const { push, proxies } = pushWith(PA('default', 'ratings', 'DISABLE', '  selector: { matchLabels: { app: ratings } }'));
  const cfg = generateProxyConfig(push, proxies.productpage);
  const tls = (name: string) => cfg.clusters.find((c) => c.name === name)?.tls.mode;
  assert.equal(tls('outbound|9080||ratings.default.svc.cluster.local'), 'DISABLE');
  assert.equal(tls('outbound|9080||reviews.default.svc.cluster.local'), 'ISTIO_MUTUAL');
  const withDr = pushWith(PA('default', 'ratings', 'DISABLE', '  selector: { matchLabels: { app: ratings } }') + `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }`);
  assert.equal(generateProxyConfig(withDr.push, withDr.proxies.productpage).clusters.find((c) => c.name === 'outbound|9080||ratings.default.svc.cluster.local')?.tls.mode, 'ISTIO_MUTUAL');
});

test('string forms convert like Istio: exact, prefix*, *suffix, *', () => {
  assert.deepEqual(stringMatch('/a'), { exact: '/a' });
  assert.deepEqual(stringMatch('/a/*'), { prefix: '/a/' });
  assert.deepEqual(stringMatch('*.html'), { suffix: '.html' });
  assert.deepEqual(stringMatch('*'), { presence: true });
});

test('AuthorizationPolicy selection: root namespace applies mesh-wide, selectors pick workloads, other namespaces do not apply', () => {
  const yaml = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: mesh-deny, namespace: istio-system }
spec: { action: DENY, rules: [ { to: [ { operation: { paths: ["/debug/*"] } } ] } ] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ratings-viewer, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  action: ALLOW
  rules: [ { from: [ { source: { serviceAccounts: ["bookinfo-reviews"] } } ] } ]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: elsewhere, namespace: other }
spec: {}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  jwtRules: [ { issuer: "testing@secure.istio.io", jwks: '{"keys":[]}' } ]
`;
  const { push, proxies } = pushWith(yaml);
  const ratings = buildInboundPolicy(push, proxies.ratings)!;
  assert.deepEqual(ratings.authz.map((p) => p.name).sort(), ['AuthorizationPolicy/default/ratings-viewer', 'AuthorizationPolicy/istio-system/mesh-deny']);
  assert.deepEqual(ratings.authz.find((p) => p.action === 'ALLOW')!.rules[0]!.from![0]!.principals, [{ exact: 'cluster.local/ns/default/sa/bookinfo-reviews' }]);
  assert.equal(ratings.jwt.length, 1);
  const details = buildInboundPolicy(push, proxies.details)!;
  assert.deepEqual(details.authz.map((p) => p.name), ['AuthorizationPolicy/istio-system/mesh-deny']);
  assert.equal(details.jwt.length, 0);
});

// ---------- Istio's authorization task on Bookinfo (tasks/security/authorization/authz-http) ----------

const ALLOW_NOTHING = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-nothing, namespace: default }
spec: {}
---`;

const viewer = (name: string, app: string, from?: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: ${app} } }
  action: ALLOW
  rules:
  - ${from ? `from: [ { source: { principals: ["cluster.local/ns/default/sa/${from}"] } } ]
    ` : ''}to: [ { operation: { methods: ["GET"] } } ]
---`;

/** The hops of one product page view (v2 reviews calls ratings). */
function hops(p: ReturnType<typeof bookinfoProxies>): { name: string; to: ProxyAnnouncement; from: string; path: string }[] {
  return [
    { name: 'gateway -> productpage', to: p.productpage, from: 'istio-ingressgateway', path: '/productpage' },
    { name: 'productpage -> details', to: p.details, from: 'bookinfo-productpage', path: '/details/0' },
    { name: 'productpage -> reviews', to: p.reviewsV2, from: 'bookinfo-productpage', path: '/reviews/0' },
    { name: 'reviews -> ratings', to: p.ratings, from: 'bookinfo-reviews', path: '/ratings/0' },
  ];
}

function allowedHops(yaml: string): string[] {
  const { push, proxies } = bookinfoPush(yaml);
  return hops(proxies).filter((h) => {
    const policy = generateProxyConfig(push, h.to).inboundPolicy!;
    const req: AuthzRequest = {
      principal: spiffeId('default', h.from), sourceIp: '10.1.0.99', destinationIp: h.to.inbound.address, method: 'GET',
      host: `${h.to.workload.labels.app}:9080`, path: h.path, ports: [9080, 19080], headers: {},
    };
    return authorize(policy.authz, req).allowed;
  }).map((h) => h.name);
}

test('Bookinfo authz task: allow-nothing denies every hop; the viewer policies restore the page step by step', () => {
  assert.deepEqual(allowedHops(ALLOW_NOTHING), []);
  let yaml = ALLOW_NOTHING + viewer('productpage-viewer', 'productpage');
  assert.deepEqual(allowedHops(yaml), ['gateway -> productpage']);
  yaml += viewer('details-viewer', 'details', 'bookinfo-productpage');
  assert.deepEqual(allowedHops(yaml), ['gateway -> productpage', 'productpage -> details']);
  yaml += viewer('reviews-viewer', 'reviews', 'bookinfo-productpage');
  assert.deepEqual(allowedHops(yaml), ['gateway -> productpage', 'productpage -> details', 'productpage -> reviews']);
  yaml += viewer('ratings-viewer', 'ratings', 'bookinfo-reviews');
  assert.deepEqual(allowedHops(yaml), ['gateway -> productpage', 'productpage -> details', 'productpage -> reviews', 'reviews -> ratings']);
  // A POST is still refused: the viewers allow GET only.
  const { push, proxies } = bookinfoPush(yaml);
  const policy = generateProxyConfig(push, proxies.details).inboundPolicy!;
  assert.equal(authorize(policy.authz, { principal: spiffeId('default', 'bookinfo-productpage'), sourceIp: '', destinationIp: '', method: 'POST', host: 'details:9080', path: '/details/0', ports: [9080], headers: {} }).allowed, false);
});
