import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import type { CertificateAuthority } from '../../../citadel/src/ca.js';
import { CitadelError } from '../../../citadel/src/errors.js';
import { KEY_ALGORITHMS, buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
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

for (const alg of KEY_ALGORITHMS) {
  test(`openssl accepts the ${alg} CSR and verifies the chain (critical SAN, empty subject, AKI)`, { skip: !hasOpenssl() }, async () => {
    const t = tempDir('citadel-openssl-');
    try {
      const key = await generateWorkloadKey(alg);
      const csr = buildCsr(key, 'spiffe://cluster.local/ns/default/sa/sleep', 'cluster.local');
      writeFileSync(join(t.dir, 'req.pem'), csr);
      // Our CSR is hand-assembled DER: openssl must read it as a valid, self-signed PKCS#10.
      const req = execFileSync('openssl', ['req', '-in', join(t.dir, 'req.pem'), '-noout', '-verify', '-text'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.match(req, /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep/);
      assert.match(req, alg === 'RSA_2048' ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/);
      const issued = ca.sign(csr, { namespace: 'default', serviceAccount: 'sleep' }, 600);
      writeFileSync(join(t.dir, 'root.pem'), ca.rootsPem());
      writeFileSync(join(t.dir, 'leaf.pem'), issued.certPem);
      const out = execFileSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(t.dir, 'root.pem'), join(t.dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.match(out, /leaf\.pem: OK/);
      // RFC 5480: an ECDSA key signs; only an RSA key may also encipher.
      const x509 = execFileSync('openssl', ['x509', '-in', join(t.dir, 'leaf.pem'), '-noout', '-text'], { encoding: 'utf8' });
      assert.match(x509, alg === 'RSA_2048' ? /Key Usage: critical\s+Digital Signature, Key Encipherment\n/ : /Key Usage: critical\s+Digital Signature\n/);
    } finally {
      t.cleanup();
    }
  });
}

test('ECDSA and RSA CSRs both get a leaf for their own key', async () => {
  const root = new X509Certificate(ca.signingRoot().certPem);
  for (const alg of KEY_ALGORITHMS) {
    const key = await generateWorkloadKey(alg);
    const issued = ca.sign(buildCsr(key, 'x', 'cluster.local'), { namespace: 'default', serviceAccount: 'sleep' }, 600);
    const leaf = new X509Certificate(issued.certPem);
    assert.equal(leaf.verify(root.publicKey), true, `${alg} leaf verifies against the root`);
    assert.equal(leaf.publicKey.asymmetricKeyType, alg === 'RSA_2048' ? 'rsa' : 'ec');
    assert.equal(leaf.publicKey.equals(createPublicKey(key.publicKeyPem)), true, `${alg} leaf carries the CSR key`);
    assert.equal(leaf.checkPrivateKey(createPrivateKey(key.keyPem)), true);
    assert.deepEqual([...(leaf.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/sleep');
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
  const a = await generateWorkloadKey('RSA_2048');
  const b = await generateWorkloadKey('RSA_2048');
  // Carries key A but is signed with key B: no proof of possession of A.
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(a.publicKeyPem);
  csr.sign(forge.pki.privateKeyFromPem(b.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const pem = forge.pki.certificationRequestToPem(csr);
  assert.equal(refusalCode(() => ca.sign(pem, { namespace: 'default', serviceAccount: 'sleep' }, 600)), 'CSR_SIGNATURE_INVALID');
  // The same with ECDSA keys, and across key types (an EC key in a CSR signed by an RSA key).
  const c = await generateWorkloadKey('ECDSA_P256');
  const d = await generateWorkloadKey('ECDSA_P256');
  const ecForged = buildCsr({ keyPem: d.keyPem, publicKeyPem: c.publicKeyPem }, 'x', 'cluster.local');
  assert.equal(refusalCode(() => ca.sign(ecForged, { namespace: 'default', serviceAccount: 'sleep' }, 600)), 'CSR_SIGNATURE_INVALID');
  const mixed = buildCsr({ keyPem: a.keyPem, publicKeyPem: c.publicKeyPem }, 'x', 'cluster.local');
  assert.equal(refusalCode(() => ca.sign(mixed, { namespace: 'default', serviceAccount: 'sleep' }, 600)), 'CSR_INVALID', 'an RSA signature cannot speak for an EC key');
});

test('unparsable or weak CSRs and bent identities are refused with their codes', async () => {
  const id = { namespace: 'default', serviceAccount: 'sleep' };
  assert.equal(refusalCode(() => ca.sign('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', id, 600)), 'CSR_INVALID');
  assert.equal(refusalCode(() => ca.sign('', id, 600)), 'CSR_INVALID');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const weak = buildCsr({ keyPem: privateKey, publicKeyPem: publicKey }, 'x', 'cluster.local');
  assert.equal(refusalCode(() => ca.sign(weak, id, 600)), 'CSR_KEY_TOO_WEAK');
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  assert.equal(refusalCode(() => ca.sign(buildCsr({ keyPem: k1.privateKey, publicKeyPem: k1.publicKey }, 'x', 'cluster.local'), id, 600)), 'CSR_KEY_TOO_WEAK', 'only P-256 and P-384');
  const good = buildCsr(await generateWorkloadKey(), 'x', 'cluster.local');
  const body = good.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
  const der = Buffer.from(body, 'base64');
  der[der.length - 3]! ^= 0x01; // a flipped bit in the signature
  assert.equal(refusalCode(() => ca.sign(`-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, id, 600)), 'CSR_SIGNATURE_INVALID');
  const trailing = Buffer.concat([Buffer.from(body, 'base64'), Buffer.from([0x05, 0x00])]);
  assert.equal(refusalCode(() => ca.sign(`-----BEGIN CERTIFICATE REQUEST-----\n${trailing.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, id, 600)), 'CSR_INVALID', 'bytes after the request');
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
