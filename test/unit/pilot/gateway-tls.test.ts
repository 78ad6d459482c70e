// Gateway TLS in pilot's generator: HTTPS servers become a listener with one TLS entry per
// server (paths and credential names only), httpsRedirect lists the plain port's hosts, and
// modes the gateway does not terminate give no listener rather than a plain one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProxyConfig, buildPushContext } from '../../../pilot/src/generate/index.js';
import { bookinfoProxies, registryOf, parseResources, snapshotOf, DESTINATION_RULE_ALL } from './bookinfo-model.js';

const GATEWAY = `
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: { name: shop }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https-a, protocol: HTTPS }
    hosts: [a.example.com]
    tls: { mode: SIMPLE, serverCertificate: /etc/istio/ingressgateway-certs/tls.crt, privateKey: /etc/istio/ingressgateway-certs/tls.key }
  - port: { number: 443, name: https-b, protocol: HTTPS }
    hosts: ["*.b.example.com"]
    tls: { mode: MUTUAL, credentialName: b-cert, subjectAltNames: [client.example.com], minProtocolVersion: TLSV1_2 }
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [a.example.com]
    tls: { httpsRedirect: true }
  - port: { number: 80, name: http-plain, protocol: HTTP }
    hosts: [plain.example.com]
  - port: { number: 8443, name: https-pass, protocol: HTTPS }
    hosts: [pass.example.com]
    tls: { mode: PASSTHROUGH }
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: shop }
spec:
  hosts: [a.example.com, shop.b.example.com, plain.example.com]
  gateways: [shop]
  http:
  - route: [{ destination: { host: productpage, port: { number: 9080 } } }]
`;

function gatewayConfig() {
  const proxies = bookinfoProxies();
  const resources = [...parseResources(DESTINATION_RULE_ALL), ...parseResources(GATEWAY)];
  const push = buildPushContext(snapshotOf(resources), registryOf(Object.values(proxies)));
  return generateProxyConfig(push, proxies.gateway);
}

test('HTTPS servers on one port: one TLS entry each, in the order written, paths and names only', () => {
  const cfg = gatewayConfig();
  const l443 = cfg.listeners.find((l) => l.port === 443);
  assert.equal(l443?.protocol, 'HTTPS');
  assert.equal(l443?.routeConfig, 'http.443');
  assert.deepEqual(l443?.tls, [
    { hosts: ['a.example.com'], mode: 'SIMPLE', serverCertificate: '/etc/istio/ingressgateway-certs/tls.crt', privateKey: '/etc/istio/ingressgateway-certs/tls.key' },
    { hosts: ['*.b.example.com'], mode: 'MUTUAL', credentialName: 'b-cert', minProtocolVersion: 'TLSV1_2', subjectAltNames: ['client.example.com'] },
  ]);
  const vhosts = cfg.routes.find((r) => r.name === 'http.443')?.virtualHosts.map((v) => v.name).sort();
  assert.deepEqual(vhosts, ['a.example.com:443', 'shop.b.example.com:443']);
});

test('httpsRedirect lists the hosts of the redirecting server only; the plain port carries no TLS', () => {
  const l80 = gatewayConfig().listeners.find((l) => l.port === 80);
  assert.deepEqual(l80?.httpsRedirectHosts, ['a.example.com']);
  assert.equal(l80?.tls, undefined);
  assert.deepEqual(l80?.hosts, ['a.example.com', 'plain.example.com']);
});

test('an HTTPS port with only PASSTHROUGH servers gets no listener (never plain text)', () => {
  assert.equal(gatewayConfig().listeners.find((l) => l.port === 8443), undefined);
});
