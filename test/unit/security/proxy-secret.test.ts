import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSecret, formatSecret } from '../../../meshctl/src/commands/proxy-config.js';
import { createTestCa, issueLeaf } from '../../support/certs.js';

const id = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews';
const ca = createTestCa();
const leaf = issueLeaf(ca, id);
const view = (over: Partial<{ spiffeId: string; certChainPem: string; rootsPem: string }> = {}) => ({
  spiffeId: id, serial: leaf.serial, certChainPem: leaf.certChainPem, rootsPem: leaf.rootsPem, ...over,
});

test('proxy-config secret: a chain to a trusted root with the claimed SPIFFE id is valid; never a key', () => {
  const r = checkSecret('reviews-v1-abcde.default', view());
  const cert = r.secrets.find((s) => s.name === 'default')!;
  assert.equal(cert.valid, true, cert.problems.join('; '));
  assert.equal(cert.status, 'ACTIVE');
  assert.equal(cert.spiffeId, id);
  assert.equal(cert.serial.replace(/^0+/, ''), leaf.serial.toLowerCase().replace(/^0+/, ''));
  assert.ok(Date.parse(cert.notBefore) < Date.now() && Date.parse(cert.notAfter) > Date.now());
  assert.equal(r.secrets.filter((s) => s.name === 'ROOTCA' && s.valid).length, 1);
  const text = formatSecret(r, 'json') + formatSecret(r, 'table');
  assert.ok(!/PRIVATE KEY/.test(text));
  assert.match(formatSecret(r, 'table'), /default\s+Cert Chain\s+ACTIVE\s+true/);
});

test('proxy-config secret: a foreign root, a wrong SPIFFE id and a missing certificate are invalid', () => {
  const foreign = createTestCa('foreign root');
  const notTrusted = checkSecret('p', view({ rootsPem: foreign.certPem })).secrets[0]!;
  assert.equal(notTrusted.valid, false);
  assert.match(notTrusted.problems.join(), /not signed by any trusted root/);
  const wrongId = checkSecret('p', view({ spiffeId: 'spiffe://cluster.local/ns/default/sa/other' })).secrets[0]!;
  assert.equal(wrongId.valid, false);
  assert.match(wrongId.problems.join(), /SAN/);
  const missing = checkSecret('p', { spiffeId: id, lastError: 'citadel unreachable' }).secrets[0]!;
  assert.equal(missing.status, 'MISSING');
  assert.deepEqual(missing.problems, ['citadel unreachable']);
  // Both roots trusted (root rotation overlap): the chain is valid against either position.
  const both = checkSecret('p', view({ rootsPem: foreign.certPem + '\n' + leaf.rootsPem })).secrets;
  assert.equal(both[0]!.valid, true);
  assert.equal(both.filter((s) => s.name === 'ROOTCA').length, 2);
});
