import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import type { CertificateAuthority } from '../../../citadel/src/ca.js';
import { CitadelError } from '../../../citadel/src/errors.js';
import { buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { tempDir, testCa } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let ca: CertificateAuthority;

before(async () => {
  tmp = tempDir('citadel-ca-');
  ca = await testCa(join(tmp.dir, 'ca'));
});
after(() => tmp.cleanup());

function refusalCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CitadelError, `expected a CitadelError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected a refusal');
}

test('a signed leaf verifies against the root and carries the SPIFFE SAN, serverAuth+clientAuth', async () => {
  const key = await generateWorkloadKey();
  const issued = ca.sign(buildCsr(key, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', 'cluster.local'), { namespace: 'default', serviceAccount: 'bookinfo-reviews' }, 3600);
  const leaf = new X509Certificate(issued.certPem);
  const root = new X509Certificate(ca.signingRoot().certPem);
  assert.equal(leaf.verify(root.publicKey), true);
  assert.equal(leaf.checkIssued(root), true);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  assert.equal(leaf.subject ?? '', '', 'empty subject: the SAN is the identity');
  assert.equal(leaf.ca, false);
  assert.deepEqual([...(leaf.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(issued.serial, leaf.serialNumber);
  assert.equal(issued.spiffeId, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  const lifetime = issued.notAfter.getTime() - Date.now();
  assert.ok(lifetime > 3590_000 && lifetime <= 3600_000, `notAfter is ~1 h ahead (${lifetime} ms)`);
  assert.ok(issued.notBefore.getTime() < Date.now() - 50_000, 'notBefore is backdated for clock skew');
  // The leaf is for the workload's key.
  assert.equal(leaf.checkPrivateKey(createPrivateKey(key.keyPem)), true);
});

test('openssl verify accepts the chain (critical SAN, empty subject, AKI)', { skip: !hasOpenssl() }, async () => {
  const t = tempDir('citadel-openssl-');
  try {
    const key = await generateWorkloadKey();
    const issued = ca.sign(buildCsr(key, 'x', 'cluster.local'), { namespace: 'default', serviceAccount: 'sleep' }, 600);
    writeFileSync(join(t.dir, 'root.pem'), ca.rootsPem());
    writeFileSync(join(t.dir, 'leaf.pem'), issued.certPem);
    const out = execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(t.dir, 'root.pem'), join(t.dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.match(out, /leaf\.pem: OK/);
  } finally {
    t.cleanup();
  }
});

test('the SAN is the verified identity, whatever the CSR asks for', async () => {
  const key = await generateWorkloadKey();
  const greedy = buildCsr(key, 'spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway', 'evil.example');
  const issued = ca.sign(greedy, { namespace: 'default', serviceAccount: 'sleep' }, 600);
  const leaf = new X509Certificate(issued.certPem);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/sleep');
  assert.doesNotMatch(leaf.subject ?? '', /evil/);
});

test('a CSR whose signature does not match its key is refused (CSR_SIGNATURE_INVALID)', async () => {
  const a = await generateWorkloadKey();
  const b = await generateWorkloadKey();
  // Carries key A but is signed with key B: no proof of possession of A.
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(a.publicKeyPem);
  csr.sign(forge.pki.privateKeyFromPem(b.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const pem = forge.pki.certificationRequestToPem(csr);
  assert.equal(refusalCode(() => ca.sign(pem, { namespace: 'default', serviceAccount: 'sleep' }, 600)), 'CSR_SIGNATURE_INVALID');
});

test('unparsable or weak CSRs and bent identities are refused with their codes', async () => {
  const id = { namespace: 'default', serviceAccount: 'sleep' };
  assert.equal(refusalCode(() => ca.sign('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', id, 600)), 'CSR_INVALID');
  assert.equal(refusalCode(() => ca.sign('', id, 600)), 'CSR_INVALID');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const weak = buildCsr({ keyPem: privateKey, publicKeyPem: publicKey }, 'x', 'cluster.local');
  assert.equal(refusalCode(() => ca.sign(weak, id, 600)), 'CSR_KEY_TOO_WEAK');
  const key = await generateWorkloadKey();
  const csr = buildCsr(key, 'x', 'cluster.local');
  assert.equal(refusalCode(() => ca.sign(csr, { namespace: 'default', serviceAccount: '../istio-system/sa/x' }, 600)), 'IDENTITY_INVALID');
  assert.equal(refusalCode(() => ca.sign(csr, { namespace: 'Default', serviceAccount: 'sleep' }, 600)), 'IDENTITY_INVALID');
});

test('the trust bundle lists every root, signing root first, with a content version', async () => {
  const t = tempDir('citadel-other-');
  try {
    const other = await testCa(t.dir);
    const before = ca.trustBundle();
    const local = await testCa(join(tmp.dir, 'ca')); // same data dir: same signing root
    local.addTrustedRoot(other.signingRoot().certPem);
    local.addTrustedRoot(other.signingRoot().certPem); // idempotent
    assert.deepEqual(local.roots().map((r) => r.fingerprint256), [ca.signingRoot().fingerprint256, other.signingRoot().fingerprint256]);
    assert.notEqual(local.trustBundle().version, before.version);
    assert.equal(ca.trustBundle().version, before.version, 'same roots, same version');
    assert.equal(local.trustBundle().rootsPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
  } finally {
    t.cleanup();
  }
});

function hasOpenssl(): boolean {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; }
}
