import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { buildCitadelApi } from '../../../citadel/src/api.js';
import type { CertificateAuthority } from '../../../citadel/src/ca.js';
import { Inventory } from '../../../citadel/src/inventory.js';
import { createMetrics } from '../../../citadel/src/metrics.js';
import { tempDir, testCa } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let ca: CertificateAuthority;
before(async () => {
  tmp = tempDir('citadel-api-');
  ca = await testCa(tmp.dir);
});
after(() => tmp.cleanup());

test('the API serves readiness, the trust bundle, the inventory and the CA view, never the key', async () => {
  let busUp = false;
  const inventory = new Inventory(10);
  inventory.add({ serial: 'AB', spiffeId: 'spiffe://cluster.local/ns/default/sa/sleep', proxyId: 'sleep-1.default', notBefore: 'a', notAfter: 'b', issuedAt: 'c' });
  const app = buildCitadelApi({ ca, inventory, metrics: createMetrics(), attestation: 'token', busConnected: () => busUp });
  try {
    let r = await app.inject('/ready');
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().ready, false);
    busUp = true;
    r = await app.inject('/ready');
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().component, 'citadel');

    r = await app.inject('/trust-bundle.pem');
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.equal(new X509Certificate(r.body).fingerprint256, ca.signingRoot().fingerprint256);

    r = await app.inject('/certs?proxyId=sleep-1.default');
    assert.deepEqual(r.json().certs.map((c: { serial: string }) => c.serial), ['AB']);
    assert.equal((await app.inject('/certs?limit=0')).statusCode, 400);

    r = await app.inject('/debug/ca');
    const view = r.json();
    assert.equal(view.signingRoot.fingerprint256, ca.signingRoot().fingerprint256);
    assert.equal(view.attestation, 'token');
    assert.equal(r.body.includes('PRIVATE KEY'), false);

    r = await app.inject('/metrics');
    assert.match(r.body, /citadel_server_csr_count/);
  } finally {
    await app.close();
  }
});
