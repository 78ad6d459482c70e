// The sidecar's identity client, pure parts: CSR, schedule, peer identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import forge from 'node-forge';
import { buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { backoffMs, renewalDelayMs } from '../../../sidecar/src/identity/schedule.js';
import { peerSpiffeId } from '../../../sidecar/src/identity/index.js';

test('the CSR carries the workload public key, is self-signed, and asks for the SPIFFE id', async () => {
  const key = await generateWorkloadKey();
  assert.match(key.keyPem, /BEGIN PRIVATE KEY/);
  const pem = buildCsr(key, 'spiffe://cluster.local/ns/default/sa/sleep', 'cluster.local');
  assert.equal(pem.includes('PRIVATE KEY'), false);
  const csr = forge.pki.certificationRequestFromPem(pem);
  assert.equal(csr.verify(), true);
  assert.equal(forge.pki.publicKeyToPem(csr.publicKey!).replace(/\r/g, '').trim(), key.publicKeyPem.trim());
  const ext = (csr.getAttribute({ name: 'extensionRequest' }) as unknown as { extensions: { altNames?: { value: string }[] }[] }).extensions;
  assert.equal(ext[0]?.altNames?.[0]?.value, 'spiffe://cluster.local/ns/default/sa/sleep');
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
