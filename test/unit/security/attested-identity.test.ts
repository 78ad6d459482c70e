// Issue 5 point 1: the identity in the certificate is the one citadel attested (process mode's
// bootstrap token), through the whole issuer (attest, then sign), whatever the CSR asks for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { bootstrapToken, createLogger, spiffeId, type CsrRequest } from '#api';
import { tokenAttestor } from '../../../citadel/src/attest.js';
import type { CertificateAuthority } from '../../../citadel/src/ca.js';
import { Inventory } from '../../../citadel/src/inventory.js';
import { createIssuer, type Issuer } from '../../../citadel/src/issue.js';
import { createMetrics } from '../../../citadel/src/metrics.js';
import { buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { tempDir, testCa } from '../citadel/helpers.js';

let tmp: ReturnType<typeof tempDir>;
let ca: CertificateAuthority;
let issue: Issuer;
const secret = 'attest-secret';

before(async () => {
  tmp = tempDir('attested-identity-');
  ca = await testCa(tmp.dir);
  issue = createIssuer({ ca, attestor: tokenAttestor(secret), inventory: new Inventory(10), metrics: createMetrics(), log: createLogger('test', 'silent'), ttlDefaultSeconds: 3600, ttlMaxSeconds: 86_400 });
});
after(() => tmp.cleanup());

test("a CSR asking for the gateway's identity, sent with reviews' token, gets reviews' identity only", async () => {
  const key = await generateWorkloadKey();
  const greedy = buildCsr(key, spiffeId('istio-system', 'istio-ingressgateway-service-account'), 'cluster.local');
  const req: CsrRequest = { proxyId: 'reviews-v1-abcde.default', csrPem: greedy, namespace: 'default', serviceAccount: 'bookinfo-reviews', token: bootstrapToken(secret, 'default', 'bookinfo-reviews') };
  const r = await issue(req);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  const leaf = new X509Certificate(r.certChainPem);
  assert.equal(leaf.subjectAltName, `URI:${spiffeId('default', 'bookinfo-reviews')}`);
  assert.ok(leaf.checkIssued(new X509Certificate(ca.rootsPem())), 'signed by the root');
  assert.equal(leaf.publicKey.export({ type: 'spki', format: 'pem' }), key.publicKeyPem, "the leaf certifies the requester's own key");
});

test("reviews' token cannot get the gateway's identity by asking for it outright, nor another namespace's", async () => {
  const csrPem = buildCsr(await generateWorkloadKey(), spiffeId('default', 'bookinfo-reviews'), 'cluster.local');
  const token = bootstrapToken(secret, 'default', 'bookinfo-reviews');
  for (const [namespace, serviceAccount] of [['istio-system', 'istio-ingressgateway-service-account'], ['other', 'bookinfo-reviews'], ['default', 'bookinfo-productpage']] as const) {
    const r = await issue({ proxyId: 'reviews-v1-abcde.default', csrPem, namespace, serviceAccount, token });
    assert.equal(r.ok, false, `${namespace}/${serviceAccount}`);
    assert.equal((r as { code: string }).code, 'NOT_ENTITLED');
  }
});
