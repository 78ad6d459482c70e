// Istio's traffic-management tasks on the Bookinfo and httpbin demo, in process mode: one whole
// mesh (real nats-server, every component and sidecar a real process), Istio's own sample
// YAML dropped into the config folder, and what a user sees through the ingress gateway or
// from the sleep workload. The mesh runs with MESH_OUTBOUND_TRAFFIC_POLICY=REGISTRY_ONLY, the
// mesh-wide outbound policy, which the last test checks. Timing figures are printed; bounds
// are generous (the machine is shared).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '#api';
import { startLocalMesh, type LocalMesh } from '../../local/src/mesh.js';
import { waitFor } from '../support/wait.js';
import { counterSum, getJson, reviewsVersion, waitAllSynced } from '../support/mesh-api.js';
import { ISTIO_SAMPLES, istioSample } from '../support/samples.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const portBase = 65_000;
const haveSamples = existsSync(join(ISTIO_SAMPLES, '1.1.0', 'bookinfo-networking'));
const sample = (name: string) => readFileSync(istioSample('1.1.0', 'bookinfo-networking', `${name}.yaml`), 'utf8');

let mesh: LocalMesh;
let work: string;
let configDir: string;
let pilot: string, galley: string, gateway: string, metrics: string;
let sleepOutbound: number;
let outside: http.Server;
const savedPolicy = process.env.MESH_OUTBOUND_TRAFFIC_POLICY;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'mesh-tasks-'));
  configDir = join(work, 'config');
  cpSync(join(root, 'compose/config'), configDir, { recursive: true });
  // Inherited by every process the launcher starts; pilot reads it (meshConfig).
  process.env.MESH_OUTBOUND_TRAFFIC_POLICY = 'REGISTRY_ONLY';
  mesh = await startLocalMesh({
    root, portOffset: 0, portBase, stateDir: join(work, 'state'), configDir, demo: true, natsBin: 'nats-server', logLevel: 'warn',
    log: createLogger('traffic-tasks', 'warn'),
  });
  const p = mesh.plan.ports;
  pilot = `http://127.0.0.1:${p.pilot}`;
  galley = `http://127.0.0.1:${p.galley}`;
  gateway = `http://127.0.0.1:${p.gateway}`;
  metrics = `http://127.0.0.1:${p.mixerMetrics}/metrics`;
  sleepOutbound = mesh.plan.proxies.find((x) => x.workload === 'sleep')!.ports.outbound;
  await waitAllSynced(pilot, mesh.plan.proxies.length, 60_000);
  outside = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('outside the mesh'); });
  await new Promise<void>((r) => outside.listen(0, '127.0.0.1', r));
});

after(async () => {
  if (savedPolicy === undefined) delete process.env.MESH_OUTBOUND_TRAFFIC_POLICY;
  else process.env.MESH_OUTBOUND_TRAFFIC_POLICY = savedPolicy;
  await mesh?.stop();
  outside?.closeAllConnections();
  await new Promise((r) => (outside ? outside.close(r) : r(undefined)));
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Replaces the task's config file atomically and waits until pilot has pushed the new
 *  snapshot and every proxy ACKed it. */
async function applyTask(...docs: string[]): Promise<void> {
  const before = (await getJson<{ version: string }>(`${galley}/status`)).version;
  const tmp = join(configDir, '.task.yaml.tmp');
  writeFileSync(tmp, docs.map((d) => d.trim()).join('\n---\n') + '\n');
  renameSync(tmp, join(configDir, 'task.yaml'));
  const version = await waitFor(async () => {
    const s = await getJson<{ version: string; files: { file: string; state: string; messages: { level: string; code: string; message: string }[] }[] }>(`${galley}/status`);
    const f = s.files.find((x) => x.file.endsWith('task.yaml'));
    if (f && f.state === 'invalid') throw new Error(`task.yaml invalid: ${JSON.stringify(f.messages)}`);
    return s.version !== before ? s.version : undefined;
  }, { timeoutMs: 10_000, what: 'galley publishing task.yaml' });
  await waitFor(async () => {
    const s = await getJson<{ configVersion: string; pushPending: boolean; byStatus: Record<string, number> }>(`${pilot}/debug/push_status`);
    return s.configVersion === version && !s.pushPending && Object.keys(s.byStatus).every((k) => k === 'SYNCED');
  }, { timeoutMs: 15_000, what: `every proxy SYNCED on ${version}` });
}

async function page(user?: string): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${gateway}/productpage`, { headers: user ? { cookie: `user=${user}` } : {}, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.text(), ms: Date.now() - t0 };
}

/** A page whose reviews arrived: on an overloaded machine productpage may give up on reviews
 *  (its own 3 s timeout, twice), which is not what the routing tests look at. */
async function servedPage(user?: string): Promise<{ status: number; body: string; ms: number }> {
  let last = await page(user);
  for (let i = 0; i < 3 && reviewsVersion(last.body) === 'unavailable'; i++) last = await page(user);
  return last;
}

/** A request as the sleep app would send it: absolute-form through its sidecar. */
function fromSleep(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolveAnswer, reject) => {
    const u = new URL(url);
    const req = http.request({ host: '127.0.0.1', port: sleepOutbound, path: url, headers: { host: u.host, ...headers }, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function metricsText(): Promise<string> {
  return (await fetch(metrics, { signal: AbortSignal.timeout(5000) })).text();
}

/** A mixer counter once reports in flight have landed (the value stops moving). */
async function stableCounter(name: string, match: Record<string, string>): Promise<number> {
  let last = -1;
  return waitFor(async () => {
    const v = counterSum(await metricsText(), name, match);
    const stable = v === last;
    last = v;
    return stable ? v : undefined;
  }, { timeoutMs: 10_000, intervalMs: 400, what: `${name} stable` });
}

/** Istio's virtual-service-all-v1.yaml without the named VirtualServices (a task replaces them). */
const allV1Except = (...names: string[]) => sample('virtual-service-all-v1').split(/^---$/m).filter((d) => d.trim() && !names.some((n) => new RegExp(`name: ${n}\\n`).test(d)));

test('request routing: end-user jason sees reviews v2 (black stars), everyone else v1', { skip: !haveSamples }, async () => {
  await applyTask(...allV1Except('reviews'), sample('virtual-service-reviews-test-v2'));
  for (let i = 0; i < 10; i++) {
    const jason = await servedPage('jason');
    assert.equal(jason.status, 200);
    assert.equal(reviewsVersion(jason.body), 'v2', 'jason gets black stars');
    const anyone = await servedPage();
    assert.equal(reviewsVersion(anyone.body), 'v1', 'no stars for everyone else');
    assert.equal(reviewsVersion((await servedPage('someone')).body), 'v1');
  }
});

test('fault injection, delay: 7 s to ratings for jason surfaces productpage\'s 3 s timeout and retry as "reviews unavailable" (~6 s)', { skip: !haveSamples }, async (t) => {
  await applyTask(...allV1Except('reviews', 'ratings'), sample('virtual-service-reviews-test-v2'), sample('virtual-service-ratings-test-delay'));
  const other = await servedPage();
  assert.equal(reviewsVersion(other.body), 'v1');
  const jason = await page('jason');
  t.diagnostic(`jason's productpage answered in ${jason.ms} ms (Istio: ~6 s, two 3 s attempts)`);
  assert.equal(jason.status, 200);
  assert.match(jason.body, /Error fetching product reviews!/);
  assert.match(jason.body, /Sorry, product reviews are currently unavailable for this book\./);
  // Two 3 s attempts: more than one attempt's timeout, well before the 7 s delay ends twice.
  assert.ok(jason.ms >= 5_500, `took ${jason.ms} ms: productpage waited for both attempts`);
  assert.ok(jason.ms < 20_000, `took ${jason.ms} ms`);
});

test('fault injection, abort: HTTP 500 to ratings for jason shows "Ratings service is currently unavailable"', { skip: !haveSamples }, async (t) => {
  await applyTask(...allV1Except('reviews', 'ratings'), sample('virtual-service-reviews-test-v2'), sample('virtual-service-ratings-test-abort'));
  const jason = await servedPage('jason');
  t.diagnostic(`jason's productpage with the abort answered in ${jason.ms} ms`);
  assert.equal(jason.status, 200);
  assert.match(jason.body, /Ratings service is currently unavailable/);
  assert.doesNotMatch(jason.body, /color="black"/, 'no stars');
  assert.doesNotMatch(jason.body, /product reviews are currently unavailable/, 'the reviews themselves are there');
  const other = await servedPage();
  assert.equal(reviewsVersion(other.body), 'v1');
  assert.doesNotMatch(other.body, /Ratings service is currently unavailable/);
});

test('traffic shifting: reviews 50/50 between v1 and v3 within tolerance', { skip: !haveSamples }, async (t) => {
  await applyTask(...allV1Except('reviews'), sample('virtual-service-reviews-50-v3'));
  const n = 120;
  const counts: Record<string, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let i = next++; i < n; i = next++) {
      const r = await page();
      assert.equal(r.status, 200);
      const v = reviewsVersion(r.body);
      counts[v] = (counts[v] ?? 0) + 1;
    }
  }));
  t.diagnostic(`reviews over ${n} pages: ${JSON.stringify(counts)}`);
  assert.equal(counts.v2, undefined, 'never v2');
  // On an overloaded machine a page may give up on reviews (productpage's own 3 s timeout);
  // those say nothing about the split, but must stay rare.
  const answered = (counts.v1 ?? 0) + (counts.v3 ?? 0);
  assert.ok(answered >= n * 0.9, `${n - answered} pages without reviews`);
  // 3 standard deviations of a fair coin over 120 draws is ~13.7 points.
  const share = (counts.v3 ?? 0) / answered;
  assert.ok(Math.abs(share - 0.5) <= 0.14, `v3 share ${share}`);
});

test('request timeouts: a 0.5 s route timeout on reviews with a 2 s delay on ratings shows "reviews unavailable" in about 1 s', { skip: !haveSamples }, async (t) => {
  const reviewsV2 = 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts:\n  - reviews\n  http:\n  - route:\n    - destination:\n        host: reviews\n        subset: v2\n';
  const ratingsDelay = 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: ratings\nspec:\n  hosts:\n  - ratings\n  http:\n  - fault:\n      delay:\n        percent: 100\n        fixedDelay: 2s\n    route:\n    - destination:\n        host: ratings\n        subset: v1\n';
  await applyTask(...allV1Except('reviews', 'ratings'), reviewsV2, ratingsDelay);
  const slow = await servedPage();
  t.diagnostic(`with the 2 s ratings delay and no timeout: ${slow.ms} ms`);
  assert.equal(reviewsVersion(slow.body), 'v2', 'black stars, after the delay');
  assert.ok(slow.ms >= 1_900, `the delay applies (${slow.ms} ms)`);
  await applyTask(...allV1Except('reviews', 'ratings'), reviewsV2.replace('  - route:', '  - timeout: 0.5s\n    route:'), ratingsDelay);
  const timedOut = await page();
  t.diagnostic(`with the 0.5 s reviews timeout: ${timedOut.ms} ms (Istio: ~1 s, productpage retries once)`);
  assert.equal(timedOut.status, 200);
  assert.match(timedOut.body, /Sorry, product reviews are currently unavailable for this book\./);
  assert.ok(timedOut.ms >= 900, `two 0.5 s attempts (${timedOut.ms} ms)`);
  assert.ok(timedOut.ms < 6_000, `${timedOut.ms} ms`);
});

const HTTPBIN_SUBSETS = 'apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: httpbin\nspec:\n  host: httpbin\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n';

test('circuit breaking: concurrent clients over maxConnections 1 / http1MaxPendingRequests 1 get 503 with UO', async (t) => {
  const cb = HTTPBIN_SUBSETS.replace('  subsets:', '  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: 1\n      http:\n        http1MaxPendingRequests: 1\n        maxRequestsPerConnection: 1\n    outlierDetection:\n      consecutiveErrors: 1\n      interval: 1s\n      baseEjectionTime: 3m\n      maxEjectionPercent: 100\n  subsets:');
  const v1Only = 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: httpbin\nspec:\n  hosts:\n  - httpbin\n  http:\n  - route:\n    - destination:\n        host: httpbin\n        subset: v1\n';
  await applyTask(cb, v1Only);
  const match = { reporter: 'source', source_workload: 'sleep', destination_service_name: 'httpbin', response_code: '503', response_flags: 'UO' };
  const before = await stableCounter('istio_requests_total', match);
  // 10 clients at once, each holding its request for 1 s: one is served, one waits, the rest overflow.
  const clients = 10;
  const answers = await Promise.all(Array.from({ length: clients }, () => fromSleep('http://httpbin:8000/delay/1')));
  const ok = answers.filter((a) => a.status === 200).length;
  const overflow = answers.filter((a) => a.status === 503).length;
  t.diagnostic(`${clients} concurrent clients: ${ok} x 200, ${overflow} x 503 (expected 2 served, 8 overflowing)`);
  assert.equal(ok + overflow, clients, JSON.stringify(answers.map((a) => a.status)));
  assert.ok(ok >= 1 && ok <= 4, `${ok} served`);
  assert.ok(overflow >= 6, `${overflow} overflowed`);
  const after = await waitFor(async () => {
    const v = counterSum(await metricsText(), 'istio_requests_total', match);
    return v >= before + overflow ? v : undefined;
  }, { timeoutMs: 10_000, what: 'the 503s counted with response_flags UO' });
  assert.equal(after - before, overflow, 'every 503 carries UO in telemetry');
});

test('mirroring: httpbin v1 answers, v2 receives a copy of each request', async (t) => {
  const mirror = 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: httpbin\nspec:\n  hosts:\n  - httpbin\n  http:\n  - route:\n    - destination:\n        host: httpbin\n        subset: v1\n      weight: 100\n    mirror:\n      host: httpbin\n      subset: v2\n';
  await applyTask(HTTPBIN_SUBSETS, mirror);
  const v2Match = { reporter: 'destination', destination_workload: 'httpbin-v2' };
  const v1Match = { reporter: 'destination', destination_workload: 'httpbin-v1' };
  const v2Before = await stableCounter('istio_requests_total', v2Match);
  const v1Before = await stableCounter('istio_requests_total', v1Match);
  const n = 10;
  for (let i = 0; i < n; i++) {
    const r = await fromSleep('http://httpbin:8000/headers');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-service-version'], 'v1', 'the client gets only the primary\'s answer');
  }
  const v2After = await waitFor(async () => {
    const v = counterSum(await metricsText(), 'istio_requests_total', v2Match);
    return v >= v2Before + n ? v : undefined;
  }, { timeoutMs: 10_000, what: `${n} mirrored requests at httpbin-v2` });
  // Each sidecar reports in its own batches: v1's may land after v2's.
  const v1After = await waitFor(async () => {
    const v = counterSum(await metricsText(), 'istio_requests_total', v1Match);
    return v >= v1Before + n ? v : undefined;
  }, { timeoutMs: 10_000, what: `${n} requests served by httpbin-v1` });
  t.diagnostic(`httpbin-v1 served ${v1After - v1Before}, httpbin-v2 received ${v2After - v2Before} mirrored copies`);
  assert.equal(v2After - v2Before, n);
  assert.ok(v1After - v1Before >= n);
});

test('outbound traffic policy: mesh-wide REGISTRY_ONLY answers 502 NR for an unknown host, passes a ServiceEntry host (as written); a Sidecar with ALLOW_ANY overrides it', async () => {
  const target = `http://127.0.0.1:${(outside.address() as AddressInfo).port}/`;
  await applyTask(HTTPBIN_SUBSETS);
  const blocked = await fromSleep(target);
  assert.equal(blocked.status, 502, blocked.body);
  assert.match(blocked.body, /REGISTRY_ONLY/);
  const nr = await waitFor(async () => counterSum(await metricsText(), 'istio_requests_total', { reporter: 'source', source_workload: 'sleep', response_code: '502', response_flags: 'NR' }) || undefined, { timeoutMs: 10_000, what: 'the 502 counted with NR' });
  assert.ok(nr >= 1);
  // Mesh services still work.
  assert.equal((await fromSleep('http://httpbin:8000/get')).status, 200);
  // A ServiceEntry puts an external host in the registry, under its own name (not
  // api.example.com.default.svc.cluster.local): REGISTRY_ONLY lets it through, with its VirtualService.
  const port = (outside.address() as AddressInfo).port;
  await applyTask(HTTPBIN_SUBSETS,
    `apiVersion: networking.istio.io/v1alpha3\nkind: ServiceEntry\nmetadata:\n  name: api-example\nspec:\n  hosts:\n  - api.example.com\n  ports:\n  - number: ${port}\n    name: http\n    protocol: HTTP\n  location: MESH_EXTERNAL\n  resolution: STATIC\n  endpoints:\n  - address: 127.0.0.1\n`,
    `apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: api-example\nspec:\n  hosts:\n  - api.example.com\n  http:\n  - route:\n    - destination:\n        host: api.example.com\n      headers:\n        response:\n          set:\n            x-routed-by: api-example\n`);
  const registered = await fromSleep(`http://api.example.com:${port}/`);
  assert.equal(registered.status, 200, registered.body);
  assert.equal(registered.body, 'outside the mesh');
  assert.equal(registered.headers['x-routed-by'], 'api-example', 'the VirtualService on the ServiceEntry host applied');
  const services = (await getJson<{ services: { hostname: string }[] }>(`${pilot}/debug/registryz`)).services.map((x) => x.hostname);
  assert.ok(services.includes('api.example.com'), services.join(' '));
  assert.ok(!services.some((h) => h.startsWith('api.example.com.')), 'taken as written');
  await applyTask(HTTPBIN_SUBSETS, 'apiVersion: networking.istio.io/v1alpha3\nkind: Sidecar\nmetadata:\n  name: sleep-open\nspec:\n  workloadSelector:\n    labels:\n      app: sleep\n  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n');
  const open = await fromSleep(target);
  assert.equal(open.status, 200, open.body);
  assert.equal(open.body, 'outside the mesh');
});
