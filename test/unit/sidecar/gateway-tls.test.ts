// The gateway's TLS choices without sockets: which server an SNI picks, where a credential's
// files are, and that a missing key is a ConfigError naming the file (never its content).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialFiles, loadTlsEntries, pickTlsServer, gatewayHostMatches, GATEWAY_CREDENTIAL_ERROR } from '../../../sidecar/src/gateway.js';

const servers = [{ hosts: ['a.example.com'], n: 1 }, { hosts: ['*.example.com'], n: 2 }, { hosts: ['*.shop.example.com'], n: 3 }, { hosts: ['*'], n: 4 }];

test('SNI picks the exact host, then the longest wildcard, then *; no SNI picks *, else the first', () => {
  assert.equal(pickTlsServer(servers, 'a.example.com')?.n, 1);
  assert.equal(pickTlsServer(servers, 'A.Example.com')?.n, 1);
  assert.equal(pickTlsServer(servers, 'x.shop.example.com')?.n, 3);
  assert.equal(pickTlsServer(servers, 'b.example.com')?.n, 2);
  assert.equal(pickTlsServer(servers, 'other.test')?.n, 4);
  assert.equal(pickTlsServer(servers, undefined)?.n, 4);
  assert.equal(pickTlsServer(servers.slice(0, 2), undefined)?.n, 1);
  assert.equal(pickTlsServer(servers.slice(0, 2), 'other.test'), undefined, 'no server for the name: the handshake fails');
  assert.ok(gatewayHostMatches('*.example.com', 'a.example.com'));
  assert.ok(!gatewayHostMatches('*.example.com', 'example.com'));
});

test('credentialName: a TLS secret\'s folder, else flat files; explicit and relative paths', () => {
  const has = (...paths: string[]) => (p: string) => paths.includes(p);
  assert.deepEqual(credentialFiles({ hosts: [], mode: 'MUTUAL', credentialName: 'shop' }, '/creds', has('/creds/shop/tls.crt')),
    { certificate: '/creds/shop/tls.crt', privateKey: '/creds/shop/tls.key', caCertificates: '/creds/shop/ca.crt' });
  assert.deepEqual(credentialFiles({ hosts: [], mode: 'MUTUAL', credentialName: 'shop' }, '/creds', has('/creds/shop.crt')),
    { certificate: '/creds/shop.crt', privateKey: '/creds/shop.key', caCertificates: '/creds/shop-cacert.crt' });
  assert.deepEqual(credentialFiles({ hosts: [], mode: 'SIMPLE', serverCertificate: 'certs/a.crt', privateKey: '/abs/a.key' }, '/creds', has()),
    { certificate: '/creds/certs/a.crt', privateKey: '/abs/a.key', caCertificates: undefined });
});

test('a missing key file is a ConfigError naming the file and the field', () => {
  const listener = { name: '0.0.0.0_443', kind: 'gateway' as const, port: 443, protocol: 'HTTPS' as const, routeConfig: 'http.443',
    tls: [{ hosts: ['a.example.com'], mode: 'SIMPLE' as const, serverCertificate: '/nonexistent/a.crt', privateKey: '/nonexistent/a.key' }] };
  assert.throws(() => loadTlsEntries(listener, '/creds'), (err: Error) => {
    assert.match(err.message, new RegExp(`${GATEWAY_CREDENTIAL_ERROR}.*listeners\\[0\\.0\\.0\\.0_443\\]\\.tls\\[0\\]\\.serverCertificate.*/nonexistent/a\\.crt.*ENOENT`));
    return true;
  });
  const noFiles = { ...listener, tls: [{ hosts: ['a.example.com'], mode: 'SIMPLE' as const, credentialName: 'missing' }] };
  assert.throws(() => loadTlsEntries(noFiles, '/creds'), /\/creds\/missing\/tls\.crt.*ENOENT/);
});
