// The web console in a real headless Chromium (Debian's chromium driven by playwright-core),
// against a real process-mode mesh with Bookinfo: after traffic the graph shows Bookinfo's
// topology with its edges; a broken file appears in the config view with its line; a NACKed
// proxy shows its error; the browser console stays free of errors. Screenshots go to
// test/artifacts/console-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, createLogger, subjects, type Bus, type ConfigAck, type ConfigPush, type ProxyAnnouncement } from '#api';
import { startLocalMesh, type LocalMesh } from '../../local/src/mesh.js';
import { demoWorkloads } from '../../local/src/demo.js';
import { waitFor } from '../support/wait.js';
import { getJson, httpGet, waitAllSynced } from '../support/mesh-api.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const artifacts = join(root, 'test/artifacts');
const chromiumPath = process.env.MESH_CHROMIUM ?? '/usr/bin/chromium';
// Outside the ephemeral range and apart from the journey's (61000) and the launcher test's (62000).
const portBase = 63_000;
const NACK_ERROR = 'listener virtualInbound: port 15006 is already in use (injected by the console test)';

type Playwright = typeof import('playwright-core');
let playwright: Playwright | undefined;
let skip: string | false = false;
try {
  playwright = await import('playwright-core');
} catch {
  skip = 'playwright-core is not installed (npm install)';
}
if (!skip && !existsSync(chromiumPath)) skip = `no Chromium at ${chromiumPath} (apt-get install -y chromium)`;

let mesh: LocalMesh | undefined;
let work: string;
let configDir: string;
let consoleUrl: string;
let bus: Bus | undefined;
let heartbeat: NodeJS.Timeout | undefined;
let traffic: NodeJS.Timeout | undefined;
let browser: import('playwright-core').Browser | undefined;
let page: import('playwright-core').Page;
const browserErrors: string[] = [];
const nackProxy = 'nack-demo-00000.default';

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'mesh-console-'));
  configDir = join(work, 'config');
  cpSync(join(root, 'compose/config'), configDir, { recursive: true });
  mesh = await startLocalMesh({
    root, portOffset: 0, portBase, stateDir: join(work, 'state'), configDir, demo: true, natsBin: 'nats-server', logLevel: 'warn',
    log: createLogger('console-test', 'warn'), readyTimeoutMs: 90_000,
    // This test plays an extra (NACKing) proxy on the bus, which the launcher's per-proxy NATS users would refuse.
    natsAuth: false,
    // Bookinfo only: the graph under test, and fewer processes on a loaded machine.
    workloads: demoWorkloads.filter((w) => !w.workload.startsWith('httpbin') && w.workload !== 'sleep'),
  });
  const p = mesh.plan.ports;
  consoleUrl = `http://127.0.0.1:${p.console}`;
  await waitAllSynced(`http://127.0.0.1:${p.pilot}`, mesh.plan.proxies.length, 60_000);

  // A proxy that rejects every config pilot sends it: what a NACK looks like in the console.
  bus = await connectBus({ servers: mesh.plan.natsUrl, name: 'console-test-nack', log: createLogger('console-test', 'warn') });
  const announcement: ProxyAnnouncement = {
    proxyId: nackProxy, kind: 'sidecar',
    workload: { name: 'nack-demo', namespace: 'default', serviceAccount: 'nack-demo', labels: { app: 'nack-demo', version: 'v1' }, services: [], ports: [] },
    inbound: { address: '127.0.0.1', port: 9 }, register: false, startedAt: new Date().toISOString(),
  };
  bus.subscribe<ConfigPush>(subjects.proxyConfig(nackProxy), (m) => {
    const ack: ConfigAck = { proxyId: nackProxy, version: m.data.version, nonce: m.data.nonce, ok: false, error: NACK_ERROR };
    bus!.publish(subjects.proxyAck, ack);
  });
  await bus.flush();
  await bus.request(subjects.proxyAnnounce, announcement, 10_000);
  heartbeat = setInterval(() => bus?.publish(subjects.proxyHeartbeat, announcement), 2000);

  // A broken file: weight 150 on line 12.
  const tmp = join(configDir, '.broken.yaml.tmp');
  writeFileSync(tmp, 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: broken\nspec:\n  hosts:\n  - ratings\n  http:\n  - route:\n    - destination:\n        host: ratings\n      weight: 150\n');
  renameSync(tmp, join(configDir, 'broken.yaml'));

  // Traffic through the gateway until every Bookinfo hop has been reported to mixer.
  const gateway = `http://127.0.0.1:${p.gateway}`;
  const mixer = `http://127.0.0.1:${p.mixer}`;
  await waitFor(async () => {
    for (let i = 0; i < 10; i++) assert.equal((await httpGet(`${gateway}/productpage`)).status, 200);
    const { edges } = await getJson<{ edges: { source: { workload: string }; destination: { workload: string } }[] }>(`${mixer}/debug/edges`);
    const seen = new Set(edges.map((e) => `${e.source.workload}>${e.destination.workload}`));
    return ['istio-ingressgateway>productpage-v1', 'productpage-v1>details-v1', 'productpage-v1>reviews-v1', 'productpage-v1>reviews-v2',
      'productpage-v1>reviews-v3', 'reviews-v2>ratings-v1', 'reviews-v3>ratings-v1'].every((k) => seen.has(k));
  }, { timeoutMs: 60_000, intervalMs: 100, what: 'every Bookinfo hop reported to mixer' });

  // Keep a trickle of traffic flowing while the browser looks, so the live rates stay in the window.
  traffic = setInterval(() => { void httpGet(`${gateway}/productpage`).catch(() => {}); }, 400);

  mkdirSync(artifacts, { recursive: true });
  // playwright gives every launch a fresh temporary profile (ENVIRONMENT.md's --user-data-dir).
  browser = await playwright!.chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') browserErrors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => browserErrors.push(`page: ${e.message}`));
  page.on('requestfailed', (r) => browserErrors.push(`request: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) browserErrors.push(`response: ${r.url()} ${r.status()}`); });
});

after(async () => {
  if (heartbeat) clearInterval(heartbeat);
  if (traffic) clearInterval(traffic);
  await browser?.close().catch(() => {});
  await bus?.close().catch(() => {});
  await mesh?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const wl = (w: string) => `wl:default/${w}`;
const svc = (s: string) => `svc:${s}.default.svc.cluster.local`;

test('after traffic the graph shows Bookinfo\'s topology with its edges, mTLS locks and health', { skip }, async () => {
  await page.goto(`${consoleUrl}/#/graph`);
  const hops: [string, string][] = [
    [wl('istio-ingressgateway'), svc('productpage')], [svc('productpage'), wl('productpage-v1')],
    [wl('productpage-v1'), svc('details')], [svc('details'), wl('details-v1')],
    [wl('productpage-v1'), svc('reviews')], [svc('reviews'), wl('reviews-v1')], [svc('reviews'), wl('reviews-v2')], [svc('reviews'), wl('reviews-v3')],
    [wl('reviews-v2'), svc('ratings')], [wl('reviews-v3'), svc('ratings')], [svc('ratings'), wl('ratings-v1')],
  ];
  for (const [from, to] of hops) {
    // 'attached': a straight horizontal edge has no height, which playwright calls hidden.
    await page.locator(`g.edge.traffic[data-from="${from}"][data-to="${to}"]`).waitFor({ state: 'attached', timeout: 15_000 });
  }
  for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']) {
    assert.equal(await page.locator(`g.node[data-node="${wl(w)}"]`).count(), 1, w);
  }
  // reviews-v1 never calls ratings: no such edge.
  assert.equal(await page.locator(`g.edge[data-from="${wl('reviews-v1')}"]`).count(), 0);
  // Every hop is mutual TLS, labelled with its rate, errors and p99.
  const label = page.locator(`g[data-edge-label="${wl('productpage-v1')}>${svc('reviews')}"]`);
  assert.match(await label.textContent() ?? '', /rps · 0% · p99 \d/);
  assert.equal(await label.locator('g.lock').count(), 1, 'a lock on the mTLS edge');
  assert.equal(await page.locator(`g.node[data-node="${wl('ratings-v1')}"]`).getAttribute('data-health'), 'healthy');
  // Clicking a node shows its details.
  await page.locator(`g.node[data-node="${wl('reviews-v2')}"]`).click();
  await page.locator('#details').getByText('calls out').waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, 'console-graph.png') });
  // The rates keep updating while traffic flows: a later poll shows a newer 'updated' stamp.
  const stamp = await page.locator('#updated').textContent();
  await waitFor(async () => (await page.locator('#updated').textContent()) !== stamp, { timeoutMs: 15_000, what: 'the graph refreshing' });
});

test('a broken file appears in the config view with its line', { skip }, async () => {
  await page.goto(`${consoleUrl}/#/config`);
  const file = page.locator('[data-file="broken.yaml"][data-state="invalid"]');
  await file.waitFor({ timeout: 15_000 });
  const error = file.locator('li.message.Error').first();
  const line = Number(await error.getAttribute('data-line'));
  assert.ok(line >= 9 && line <= 12, `line ${line} points into the route`);
  assert.match(await error.textContent() ?? '', new RegExp(`broken\\.yaml:${line}`));
  assert.equal(await page.locator('[data-file="bookinfo-gateway.yaml"][data-state="valid"]').count(), 1, 'valid files are listed too');
  await page.screenshot({ path: join(artifacts, 'console-config.png'), fullPage: true });
});

test('a NACKed proxy shows its error, and each proxy its config', { skip }, async () => {
  await page.goto(`${consoleUrl}/#/proxies`);
  const row = page.locator(`tr[data-proxy="${nackProxy}"][data-status="NACKED"]`);
  await row.waitFor({ timeout: 20_000 });
  assert.match(await row.textContent() ?? '', /port 15006 is already in use/);
  const synced = page.locator('tr[data-status="SYNCED"]');
  assert.equal(await synced.count(), mesh!.plan.proxies.length);
  await page.locator('tr[data-proxy^="reviews-v2-"]').click();
  const panel = page.locator('[data-testid="proxy-config"]');
  await panel.waitFor({ timeout: 10_000 });
  assert.match(await panel.locator('pre').textContent() ?? '', /outbound\|9080\|\|ratings\.default\.svc\.cluster\.local/);
  await page.screenshot({ path: join(artifacts, 'console-proxies.png'), fullPage: true });
});

test('certificates and traces render from citadel and mixer', { skip }, async () => {
  await page.goto(`${consoleUrl}/#/certs`);
  const rows = page.locator('[data-testid="certs"] tbody tr');
  await rows.first().waitFor({ timeout: 15_000 });
  assert.equal(await rows.count(), mesh!.plan.proxies.length);
  assert.match(await page.locator('[data-testid="certs"]').textContent() ?? '', /spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews/);
  await page.screenshot({ path: join(artifacts, 'console-certs.png'), fullPage: true });
  await page.goto(`${consoleUrl}/#/traces`);
  await page.locator('[data-trace]').first().waitFor({ timeout: 15_000 });
  // The view shows mixer's recent requests as of the moment it opens; the newest may still
  // miss hops whose sidecars have not flushed their reports, so open it again until one of
  // them has its hops.
  const several = page.locator('[data-trace]').filter({ has: page.locator('.span-row + .span-row') });
  await waitFor(async () => {
    if (await several.count() > 0) return true;
    await page.reload();
    await page.locator('[data-trace]').first().waitFor({ timeout: 15_000 });
    return false;
  }, { timeoutMs: 30_000, what: 'a trace with several spans' });
  const trace = several.first();
  assert.ok(await trace.locator('.span-row').count() >= 2, 'a trace has several spans');
  await page.screenshot({ path: join(artifacts, 'console-traces.png') });
});

test('no errors in the browser console', { skip }, () => {
  assert.deepEqual(browserErrors, []);
});
