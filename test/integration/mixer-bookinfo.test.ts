// Istio 1.1's policy samples on the real Bookinfo demo in process mode (every component a
// real process, as `npm start` runs them; mixer-policy.test.ts covers the same samples with
// lighter workloads and always runs): files dropped into the watched folder reach mixer
// through galley; traffic enters through the ingress gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '#api';
import { startLocalMesh, type LocalMesh } from '../../local/src/mesh.js';
import { waitFor } from '../support/wait.js';
import { counterSum, getJson, httpGet, waitAllSynced } from '../support/mesh-api.js';
import { SAMPLES_DIR } from '../unit/mixer/fixtures.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
// Its own compact port block (api/src/ports.ts), outside the kernel's ephemeral range and
// clear of the journey's (61000), the launcher's (62000) and the browser test's (63000).
const portBase = 63_500;
// Integration files run one at a time, so this second whole mesh runs by default.
const skip = !existsSync(SAMPLES_DIR) ? 'Istio 1.1 samples not present' : false;
let mesh: LocalMesh | undefined;
let configDir: string;
let work: string;
let gateway: string, mixer: string, metrics: string;

/** Drops a sample into the watched folder atomically and waits until mixer serves it. */
async function drop(sample: string): Promise<void> {
  const before = (await getJson<{ version: string }>(`${mixer}/debug/configz`)).version;
  const tmp = join(configDir, `.${sample}.tmp`);
  writeFileSync(tmp, readFileSync(join(SAMPLES_DIR, sample)));
  renameSync(tmp, join(configDir, sample));
  await waitFor(async () => (await getJson<{ version: string }>(`${mixer}/debug/configz`)).version !== before, { timeoutMs: 10_000, what: `mixer serving ${sample}` });
}

async function remove(sample: string): Promise<void> {
  const before = (await getJson<{ version: string }>(`${mixer}/debug/configz`)).version;
  unlinkSync(join(configDir, sample));
  await waitFor(async () => (await getJson<{ version: string }>(`${mixer}/debug/configz`)).version !== before, { timeoutMs: 10_000, what: `mixer without ${sample}` });
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'mesh-mixer-bookinfo-'));
  configDir = join(work, 'config');
  cpSync(join(root, 'compose/config'), configDir, { recursive: true });
  const t0 = Date.now();
  const started = startLocalMesh({
    root, portOffset: 0, portBase, stateDir: join(work, 'state'), configDir, demo: true, natsBin: 'nats-server', logLevel: 'warn',
    log: createLogger('mixer-bookinfo', 'warn'),
  });
  mesh = await started;
  const p = mesh.plan.ports;
  gateway = `http://127.0.0.1:${p.gateway}`;
  mixer = `http://127.0.0.1:${p.mixer}`;
  metrics = `http://127.0.0.1:${p.mixerMetrics}/metrics`;
  await waitAllSynced(`http://127.0.0.1:${p.pilot}`, mesh.plan.proxies.length, 60_000);
  console.log(`mixer-bookinfo: ${mesh.plan.proxies.length} proxies SYNCED ${Date.now() - t0} ms after start`);
});

after(async () => {
  await mesh?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('deny-label on Bookinfo: reviews-v3 pages say ratings are unavailable, v2 pages keep their stars', { skip, timeout: 120_000 }, async () => {
  await drop('mixer-rule-deny-label.yaml');
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const { status, body } = await httpGet(`${gateway}/productpage`);
    assert.equal(status, 200);
    if (/Ratings service is currently unavailable/.test(body)) seen.add('v3-denied');
    if (/color="black"/.test(body)) seen.add('v2-stars');
    assert.doesNotMatch(body, /color="red"/, 'no red stars: v3 cannot reach ratings');
  }
  assert.deepEqual([...seen].sort(), ['v2-stars', 'v3-denied']);
  await remove('mixer-rule-deny-label.yaml');
});

test('deny-serviceaccount on Bookinfo: productpage cannot reach details (its page says so), reviews still shown', { skip, timeout: 120_000 }, async () => {
  await drop('mixer-rule-deny-serviceaccount.yaml');
  for (let i = 0; i < 5; i++) {
    const { status, body } = await httpGet(`${gateway}/productpage`);
    assert.equal(status, 200);
    assert.match(body, /Error fetching product details!/);
    assert.match(body, /Book Reviews/, 'reviews are not bound by the rule');
  }
  await remove('mixer-rule-deny-serviceaccount.yaml');
  assert.match((await httpGet(`${gateway}/productpage`)).body, /Book Details/);
});

test('ingress-denial on Bookinfo: x-user john through the gateway is 403 with the handler message; jane is served', { skip, timeout: 120_000 }, async () => {
  await drop('mixer-rule-ingress-denial.yaml');
  const john = await httpGet(`${gateway}/productpage`, { 'x-user': 'john' });
  assert.equal(john.status, 403);
  assert.equal(john.body, 'PERMISSION_DENIED:handler.denier.istio-system:Not allowed\n');
  assert.equal((await httpGet(`${gateway}/productpage`, { 'x-user': 'jane' })).status, 200);
  assert.equal((await httpGet(`${gateway}/productpage`)).status, 200);
  await remove('mixer-rule-ingress-denial.yaml');
  assert.equal((await httpGet(`${gateway}/productpage`, { 'x-user': 'john' })).status, 200, 'served again once the rule is gone');
});

test('productpage rate limit on Bookinfo: 2 per 5 s through the gateway, 429 beyond, and the custom metric', { skip, timeout: 120_000 }, async () => {
  await drop('mixer-rule-productpage-ratelimit.yaml');
  await drop('mixer-rule-additional-telemetry.yaml');
  const sent: { at: number; status: number }[] = [];
  for (let i = 0; i < 5; i++) sent.push({ at: Date.now(), status: (await httpGet(`${gateway}/productpage`)).status });
  assert.deepEqual(sent.slice(0, 2).map((s) => s.status), [200, 200]);
  // Within the 5 s window of the first grant the quota is spent (a very slow machine may see
  // the window roll over for later requests, which then rightly pass).
  const inWindow = sent.slice(2).filter((s) => s.at - sent[0]!.at < 4500);
  assert.ok(inWindow.length > 0, 'requests sent within the window');
  assert.deepEqual(inWindow.map((s) => s.status), inWindow.map(() => 429));
  const denied = await httpGet(`${gateway}/productpage`);
  assert.equal(denied.body, 'RESOURCE_EXHAUSTED:Quota is exhausted for: requestcount\n');
  // Other services are not bound to the quota.
  await remove('mixer-rule-productpage-ratelimit.yaml');
  assert.equal((await httpGet(`${gateway}/productpage`)).status, 200);
  const n = await waitFor(async () => {
    const v = counterSum(await (await fetch(metrics)).text(), 'istio_double_request_count', { message: 'twice the fun!' });
    return v > 0 ? v : undefined;
  }, { timeoutMs: 10_000, what: 'istio_double_request_count in /metrics' });
  assert.equal(n % 2, 0);
});
