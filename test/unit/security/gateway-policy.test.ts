// Issue 5 point 4: which AuthorizationPolicy / RequestAuthentication reach the ingress gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPushContext } from '../../../pilot/src/model/push-context.js';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { bookinfoProxies, parseResources, registryOf, snapshotOf } from '../pilot/bookinfo-model.js';

const AP = (ns: string, name: string, spec: string) => `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec}
---`;

function gatewayConfig(yaml: string) {
  const proxies = bookinfoProxies();
  const push = buildPushContext(snapshotOf(parseResources(yaml, 'gw.yaml')), registryOf(Object.values(proxies)));
  return { gateway: generateProxyConfig(push, proxies.gateway), productpage: generateProxyConfig(push, proxies.productpage) };
}

test('a policy selecting istio: ingressgateway reaches the gateway, with ipBlocks, paths and request principals', () => {
  const { gateway, productpage } = gatewayConfig(AP('default', 'edge', `  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules:
  - from: [{ source: { remoteIpBlocks: ["203.0.113.0/24"], requestPrincipals: ["*"] } }]
    to: [{ operation: { paths: ["/admin*"] } }]`));
  assert.deepEqual(gateway.inboundPolicy?.authz.map((p) => [p.name, p.action]), [['AuthorizationPolicy/default/edge', 'DENY']]);
  assert.deepEqual(gateway.inboundPolicy?.origins, ['AuthorizationPolicy/default/edge']);
  const rule = gateway.inboundPolicy!.authz[0]!.rules[0]!;
  assert.deepEqual(rule.from?.[0]?.ipBlocks, ['203.0.113.0/24']);
  assert.ok(rule.from?.[0]?.requestPrincipals, 'request principals kept');
  assert.ok(rule.to?.[0]?.paths, 'paths kept');
  assert.equal(productpage.inboundPolicy?.authz.length ?? 0, 0, 'not the apps');
});

test("a namespace-wide policy of the apps' namespace leaves the gateway alone; a mesh-wide one does not", () => {
  const nsWide = gatewayConfig(AP('default', 'allow-nothing', '  {}'));
  assert.equal(nsWide.gateway.inboundPolicy, undefined);
  assert.equal(nsWide.productpage.inboundPolicy?.authz.length, 1);
  const meshWide = gatewayConfig(AP('istio-system', 'deny-all-delete', `  action: DENY
  rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }]`));
  assert.deepEqual(meshWide.gateway.inboundPolicy?.authz.map((p) => p.name), ['AuthorizationPolicy/istio-system/deny-all-delete']);
  const otherSelector = gatewayConfig(AP('default', 'pp', '  selector: { matchLabels: { app: productpage } }'));
  assert.equal(otherSelector.gateway.inboundPolicy, undefined);
});
