// Gateway TLS fields: SIMPLE and MUTUAL need a certificate and key (files or a credential),
// MUTUAL the CA; protocol versions are Istio's names; modes the gateway does not terminate on
// an HTTPS port and httpsRedirect off an HTTP server are warned about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, formatMessage } from '../../../galley/src/analysis/index.js';

const gw = (tls: string, protocol = 'HTTPS', port = 443) => `apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: gw
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: ${port}, name: p, protocol: ${protocol}}
    hosts: [shop.example.com]
    tls: ${tls}
`;

const cases: { name: string; tls: string; protocol?: string; port?: number; codes: string[]; fields?: string[] }[] = [
  { name: 'SIMPLE with file paths', tls: '{mode: SIMPLE, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key}', codes: [] },
  { name: 'SIMPLE with a credentialName', tls: '{mode: SIMPLE, credentialName: shop-cert}', codes: [] },
  { name: 'MUTUAL with files and SANs', tls: '{mode: MUTUAL, serverCertificate: a.crt, privateKey: a.key, caCertificates: ca.crt, subjectAltNames: [client.example.com], minProtocolVersion: TLSV1_2}', codes: [] },
  { name: 'SIMPLE without a key', tls: '{mode: SIMPLE, serverCertificate: a.crt}', codes: ['IST0106'], fields: ['spec.servers[0].tls.privateKey'] },
  { name: 'MUTUAL without a CA', tls: '{mode: MUTUAL, serverCertificate: a.crt, privateKey: a.key}', codes: ['IST0106'], fields: ['spec.servers[0].tls.caCertificates'] },
  { name: 'unknown protocol version', tls: '{mode: SIMPLE, credentialName: c, minProtocolVersion: SSLV3}', codes: ['IST0106'], fields: ['spec.servers[0].tls.minProtocolVersion'] },
  { name: 'PASSTHROUGH on an HTTPS port is not terminated', tls: '{mode: PASSTHROUGH}', codes: ['IST0133'], fields: ['spec.servers[0].tls.mode'] },
  { name: 'httpsRedirect on an HTTP server', tls: '{httpsRedirect: true}', protocol: 'HTTP', port: 80, codes: [] },
];

for (const c of cases) {
  test(`Gateway tls: ${c.name}`, () => {
    const messages = analyze([{ file: 'gw.yaml', text: gw(c.tls, c.protocol, c.port) }]);
    assert.deepEqual(messages.map((m) => m.code), c.codes, messages.map(formatMessage).join('\n'));
    if (c.fields) assert.deepEqual(messages.map((m) => m.field), c.fields, messages.map(formatMessage).join('\n'));
  });
}

test('Gateway tls: a warning, not an error, for modes the gateway does not terminate', () => {
  const [m] = analyze([{ file: 'gw.yaml', text: gw('{mode: ISTIO_MUTUAL}') }]);
  assert.equal(m?.level, 'Warning', m && formatMessage(m));
  assert.match(m!.message, /SIMPLE or MUTUAL only/);
});
