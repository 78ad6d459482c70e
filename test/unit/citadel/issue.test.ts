import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { bootstrapToken, type CsrRequest, type CsrResponse } from '#api';
import { tokenAttestor } from '../../../citadel/src/attest.js';
import type { CertificateAuthority } from '../../../citadel/src/ca.js';
import { Inventory } from '../../../citadel/src/inventory.js';
import { createIssuer, type Issuer } from '../../../citadel/src/issue.js';
import { createMetrics, type CitadelMetrics } from '../../../citadel/src/metrics.js';
import { buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { tempDir, testCa } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let ca: CertificateAuthority;
let issue: Issuer;
let inventory: Inventory;
let metrics: CitadelMetrics;
let csrPem: string;
const logLines: string[] = [];
const token = bootstrapToken('s3cret', 'default', 'bookinfo-reviews');

before(async () => {
  tmp = tempDir('citadel-issue-');
  ca = await testCa(tmp.dir);
  inventory = new Inventory(100);
  metrics = createMetrics();
  const sink = new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } });
  const log = pino({ level: 'debug' }, sink);
  issue = createIssuer({ ca, attestor: tokenAttestor('s3cret'), inventory, metrics, log, ttlDefaultSeconds: 86_400, ttlMaxSeconds: 7_776_000 });
  csrPem = buildCsr(await generateWorkloadKey(), 'x', 'cluster.local');
});
after(() => tmp.cleanup());

const req = (over: Partial<CsrRequest> = {}): CsrRequest => ({
  proxyId: 'reviews-v1-abcde.default', csrPem, namespace: 'default', serviceAccount: 'bookinfo-reviews', token, ...over,
});

function refused(r: CsrResponse): string {
  assert.equal(r.ok, false, 'expected a refusal');
  return (r as { code: string }).code;
}

test('an entitled CSR gets a cert with the default TTL, the trust bundle, and an inventory entry', async () => {
  const r = await issue(req());
  assert.equal(r.ok, true);
  if (!r.ok) return;
  const leaf = new X509Certificate(r.certChainPem);
  assert.equal(leaf.serialNumber, r.serial);
  assert.equal(r.rootsPem, ca.rootsPem());
  const ttl = (Date.parse(r.notAfter) - Date.now()) / 1000;
  assert.ok(ttl > 86_390 && ttl <= 86_400, `default TTL 24 h (${ttl})`);
  const [rec] = inventory.list({ proxyId: 'reviews-v1-abcde.default' });
  assert.equal(rec?.serial, r.serial);
  assert.equal(rec?.spiffeId, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
});

test('TTL above the maximum is refused (TTL_TOO_LONG); the maximum itself is signed', async () => {
  assert.equal(refused(await issue(req({ ttlSeconds: 7_776_001 }))), 'TTL_TOO_LONG');
  assert.equal((await issue(req({ ttlSeconds: 7_776_000 }))).ok, true);
  assert.equal(refused(await issue(req({ ttlSeconds: 0 }))), 'TTL_INVALID');
  assert.equal(refused(await issue(req({ ttlSeconds: 1.5 }))), 'TTL_INVALID');
});

test('a requester without the right token is NOT_ENTITLED; malformed requests are BAD_REQUEST', async () => {
  const before = inventory.stats().issuedTotal;
  assert.equal(refused(await issue(req({ serviceAccount: 'bookinfo-ratings' }))), 'NOT_ENTITLED');
  assert.equal(refused(await issue(req({ token: 'nope' }))), 'NOT_ENTITLED');
  assert.equal(refused(await issue({ proxyId: 'x' } as CsrRequest)), 'BAD_REQUEST');
  assert.equal(refused(await issue(null as unknown as CsrRequest)), 'BAD_REQUEST');
  assert.equal(refused(await issue(req({ csrPem: 'garbage' }))), 'CSR_INVALID');
  assert.equal(inventory.stats().issuedTotal, before, 'nothing issued');
  const refusedMetric = await metrics.registry.getSingleMetricAsString('citadel_server_csr_refused_count');
  assert.match(refusedMetric, /code="NOT_ENTITLED"} 2/);
});

test('refusals are logged with their code, never with the token or the CSR', () => {
  const all = logLines.join('');
  assert.match(all, /"code":"NOT_ENTITLED"/);
  assert.match(all, /"code":"TTL_TOO_LONG"/);
  assert.equal(all.includes(token), false, 'token must not be logged');
  assert.equal(all.includes('BEGIN CERTIFICATE REQUEST'), false, 'CSR must not be logged');
});
