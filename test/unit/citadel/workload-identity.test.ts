// The sidecar's identity client, pure parts: CSR, schedule, peer identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { parseCsr } from '../../../citadel/src/ca.js';
import { int, oid, tlv } from '../../../sidecar/src/identity/der.js';
import { DEFAULT_KEY_ALGORITHM, buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { backoffMs, renewalDelayMs } from '../../../sidecar/src/identity/schedule.js';
import { peerSpiffeId } from '../../../sidecar/src/identity/index.js';

test('the CSR carries the workload public key, is self-signed, and asks for the SPIFFE id (RSA, read by forge)', async () => {
  const key = await generateWorkloadKey('RSA_2048');
  assert.match(key.keyPem, /BEGIN PRIVATE KEY/);
  const pem = buildCsr(key, 'spiffe://cluster.local/ns/default/sa/sleep', 'cluster.local');
  assert.equal(pem.includes('PRIVATE KEY'), false);
  const csr = forge.pki.certificationRequestFromPem(pem);
  assert.equal(csr.verify(), true);
  assert.equal(forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r/g, '').trim(), key.publicKeyPem.trim());
  const ext = (csr.getAttribute({ name: 'extensionRequest' }) as unknown as { extensions: { altNames?: { value: string }[] }[] }).extensions;
  assert.equal(ext[0]?.altNames?.[0]?.value, 'spiffe://cluster.local/ns/default/sa/sleep');
  assert.equal(csr.subject.getField('O')?.value, 'cluster.local');
});

test('workload keys are ECDSA P-256 by default; the CSR verifies with the key it carries', async () => {
  const key = await generateWorkloadKey();
  const pub = createPublicKey(key.publicKeyPem);
  assert.equal(pub.asymmetricKeyType, 'ec');
  assert.equal(pub.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(DEFAULT_KEY_ALGORITHM, 'ECDSA_P256');
  const pem = buildCsr(key, 'spiffe://cluster.local/ns/default/sa/sleep', 'cluster.local');
  assert.equal(pem.includes('PRIVATE KEY'), false);
  const parsed = parseCsr(pem);
  assert.equal(parsed.keyType, 'ec');
  assert.equal(parsed.publicKey.equals(pub), true);
  // The SAN travels as an IA5String under [6]: its bytes are in the request.
  assert.ok(Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64').includes(Buffer.from('spiffe://cluster.local/ns/default/sa/sleep')));
});

test('DER helpers encode lengths, integers and OIDs as X.690 says', () => {
  assert.deepEqual(oid('1.2.840.10045.4.3.2'), Buffer.from('06082a8648ce3d040302', 'hex'));
  assert.deepEqual(oid('2.5.29.17'), Buffer.from('0603551d11', 'hex'));
  assert.deepEqual(int(0), Buffer.from('020100', 'hex'));
  assert.deepEqual(int(128), Buffer.from('02020080', 'hex'), 'a leading zero keeps it positive');
  assert.deepEqual(tlv(0x04, Buffer.alloc(127)).subarray(0, 2), Buffer.from('047f', 'hex'));
  assert.deepEqual(tlv(0x04, Buffer.alloc(128)).subarray(0, 3), Buffer.from('048180', 'hex'));
  assert.deepEqual(tlv(0x04, Buffer.alloc(300)).subarray(0, 4), Buffer.from('0482012c', 'hex'));
});

test('renewal falls at 50 % +-10 % of the time left; backoff doubles up to its cap', () => {
  const t0 = 1_000_000;
  assert.equal(renewalDelayMs(t0, t0 + 10_000, () => 0.5), 5_000);
  assert.equal(renewalDelayMs(t0, t0 + 10_000, () => 0), 4_000);
  assert.equal(renewalDelayMs(t0, t0 + 10_000, () => 0.999999), 6_000);
  assert.equal(renewalDelayMs(t0, t0 - 1), 0, 'already expired: renew now');
  assert.deepEqual([0, 1, 2, 3, 10, 100].map((a) => backoffMs(a, 500, 30_000)), [500, 1000, 2000, 4000, 30_000, 30_000]);
});

test('peerSpiffeId reads the URI SAN, plain or quoted, and nothing else', () => {
  const cert = (san?: string) => ({ subjectaltname: san }) as unknown as PeerCertificate;
  assert.equal(peerSpiffeId(cert('URI:spiffe://cluster.local/ns/default/sa/sleep')), 'spiffe://cluster.local/ns/default/sa/sleep');
  assert.equal(peerSpiffeId(cert('DNS:reviews, URI:https://x.example, URI:spiffe://td/ns/a/sa/b')), 'spiffe://td/ns/a/sa/b');
  assert.equal(peerSpiffeId(cert('URI:"spiffe://td/ns/a/sa/b,c"')), 'spiffe://td/ns/a/sa/b,c');
  assert.equal(peerSpiffeId(cert('DNS:spiffe://not-a-uri')), undefined);
  assert.equal(peerSpiffeId(cert(undefined)), undefined);
  assert.equal(peerSpiffeId(undefined), undefined);
  assert.equal(peerSpiffeId({} as PeerCertificate), undefined);
});
