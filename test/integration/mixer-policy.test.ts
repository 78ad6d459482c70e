// Istio 1.1's policy samples on live traffic: real sidecars (mTLS, the check layer and its
// cache), mixer as a real process reading config from a fake galley, a real nats-server.
// Then the check cache, fail-open/fail-closed with mixer killed, and telemetry (custom metric,
// access log, traces with Zipkin export).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Resource } from '#api';
import { PolicyMesh, metricSum, metricsText } from '../support/policy-mesh.js';
import { waitFor } from '../support/wait.js';
import { resourcesFromYaml, sample, sampleFiles } from '../unit/mixer/fixtures.js';

const skip = sampleFiles().length === 0 ? 'Istio 1.1 samples not present' : false;
const mesh = new PolicyMesh();
let zipkin: http.Server;
const zipkinSpans: { traceId: string; id: string; parentId?: string; kind: string; tags: Record<string, string> }[] = [];
let configN = 0;

async function useConfig(resources: Resource[]): Promise<void> {
  const version = `cfg-${++configN}`;
  mesh.publishConfig(resources, version);
  await mesh.mixerAt(version);
  // Every sidecar has heard of the change (and voided its cache) before traffic is sent.
  await waitFor(() => [...mesh.members.values()].every((m) => m.sidecar.policy!.describe().configVersion === version), { timeoutMs: 5000, what: `sidecars at policy ${version}` });
}

before(async () => {
  zipkin = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { zipkinSpans.push(...JSON.parse(body)); res.writeHead(202); res.end(); });
  });
  await new Promise<void>((r) => zipkin.listen(0, '127.0.0.1', r));
  await mesh.start();
  await mesh.startMixer({ MESH_MIXER_ZIPKIN_URL: `http://127.0.0.1:${(zipkin.address() as AddressInfo).port}/api/v2/spans`, MESH_MIXER_TRACE_COMPLETE_MS: '300' });
  await mesh.add({ name: 'productpage-v1', sa: 'bookinfo-productpage', labels: { app: 'productpage', version: 'v1' }, service: 'productpage' });
  await mesh.add({ name: 'details-v1', sa: 'bookinfo-details', labels: { app: 'details', version: 'v1' }, service: 'details' });
  await mesh.add({ name: 'ratings-v1', sa: 'bookinfo-ratings', labels: { app: 'ratings', version: 'v1' }, service: 'ratings' });
  await mesh.add({ name: 'httpbin-v1', sa: 'httpbin', labels: { app: 'httpbin', version: 'v1' }, service: 'httpbin', failOpen: true });
  await mesh.add({ name: 'reviews-v2', sa: 'bookinfo-reviews', labels: { app: 'reviews', version: 'v2' } });
  await mesh.add({ name: 'reviews-v3', sa: 'bookinfo-reviews', labels: { app: 'reviews', version: 'v3' } });
  // The gateway's labels, as a plain client (the rule reads source.labels only).
  await mesh.add({ name: 'istio-ingressgateway', sa: 'istio-ingressgateway-service-account', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } });
  await mesh.pushRoutes();
});

after(async () => {
  await mesh.stop();
  zipkin?.closeAllConnections();
  await new Promise((r) => zipkin?.close(r));
});

test('deny by label: reviews-v3 -> ratings is 403 PERMISSION_DENIED with the handler message; v2 is served', { skip }, async () => {
  await useConfig(sample('mixer-rule-deny-label.yaml')!);
  const denied = await mesh.call('reviews-v3', 'ratings', '/ratings/0');
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'PERMISSION_DENIED:denyreviewsv3handler.denier.default:Not allowed\n');
  const ok = await mesh.call('reviews-v2', 'ratings', '/ratings/0');
  assert.equal(ok.status, 200);
  assert.match(ok.body, /ratings-v1/);
});

test('deny by service account: productpage -> details is 403, another caller is served', { skip }, async () => {
  await useConfig(sample('mixer-rule-deny-serviceaccount.yaml')!);
  assert.equal((await mesh.call('productpage-v1', 'details', '/details/0')).status, 403);
  assert.equal((await mesh.call('reviews-v2', 'details', '/details/0')).status, 200);
});

test('deny by header: x-user john from the ingress gateway is refused; others pass', { skip }, async () => {
  await useConfig(sample('mixer-rule-ingress-denial.yaml')!);
  const john = await mesh.call('istio-ingressgateway', 'productpage', '/productpage', { 'x-user': 'john' });
  assert.equal(john.status, 403);
  assert.equal(john.body, 'PERMISSION_DENIED:handler.denier.istio-system:Not allowed\n');
  assert.equal((await mesh.call('istio-ingressgateway', 'productpage', '/productpage', { 'x-user': 'jane' })).status, 200);
  assert.equal((await mesh.call('istio-ingressgateway', 'productpage', '/productpage')).status, 200);
  assert.equal((await mesh.call('reviews-v2', 'productpage', '/productpage', { 'x-user': 'john' })).status, 200, 'not from the gateway');
  await useConfig(sample('mixer-rule-ratings-denial.yaml')!);
  assert.equal((await mesh.call('reviews-v2', 'ratings', '/ratings/0', { 'x-user': 'john' })).status, 403);
  assert.equal((await mesh.call('reviews-v2', 'ratings', '/ratings/0')).status, 200);
});

test('memquota rate limit on productpage: 2 per 5 s, 429 beyond with the quota message, other services served', { skip }, async () => {
  await useConfig(sample('mixer-rule-productpage-ratelimit.yaml')!);
  const sent: { at: number; status: number }[] = [];
  let body = '';
  for (let i = 0; i < 6; i++) {
    const at = Date.now();
    const r = await mesh.call('istio-ingressgateway', 'productpage', '/productpage');
    sent.push({ at, status: r.status });
    if (r.status === 429) body = r.body;
  }
  assert.deepEqual(sent.slice(0, 2).map((s) => s.status), [200, 200]);
  // Within 5 s of the first grant the quota is spent (past it the rolling window rightly frees up).
  const inWindow = sent.slice(2).filter((s) => s.at - sent[0]!.at < 4500);
  assert.ok(inWindow.length > 0);
  assert.deepEqual(inWindow.map((s) => s.status), inWindow.map(() => 429));
  assert.equal(body, 'RESOURCE_EXHAUSTED:Quota is exhausted for: requestcount\n');
  for (let i = 0; i < 5; i++) assert.equal((await mesh.call('istio-ingressgateway', 'details', '/details/0')).status, 200);
  // The denials after the first were answered by the sidecar's cache (mixer said until when).
  const text = await metricsText(mesh.mixer!.metricsUrl);
  await waitFor(async () => metricSum(await metricsText(mesh.mixer!.metricsUrl), 'mixer_check_cache_hits_total') > 0, { what: 'cache hits reported' });
  assert.ok(metricSum(text, 'mixer_check_total', { result: 'denied' }) >= 1);
});

test('additional telemetry: istio_double_request_count appears in mixer /metrics', { skip }, async () => {
  await useConfig(sample('mixer-rule-additional-telemetry.yaml')!);
  for (let i = 0; i < 3; i++) assert.equal((await mesh.call('reviews-v2', 'ratings', '/ratings/0')).status, 200);
  const n = await waitFor(async () => {
    const v = metricSum(await metricsText(mesh.mixer!.metricsUrl), 'istio_double_request_count', { reporter: 'server', source: 'reviews-v2', destination: 'ratings-v1', message: 'twice the fun!' });
    return v >= 6 ? v : undefined;
  }, { timeoutMs: 10_000, what: 'istio_double_request_count' });
  assert.equal(n % 2, 0, 'each request counts twice');
});

test('check cache: repeats are hits keyed by what the rule read; a config change voids the cache at once', { skip }, async () => {
  await useConfig(sample('mixer-rule-deny-label.yaml')!);
  const ratings = mesh.sidecar('ratings-v1').policy!;
  ratings.cache.clear();
  const before = { ...ratings.totals };
  for (let i = 0; i < 10; i++) assert.equal((await mesh.call('reviews-v2', 'ratings', `/ratings/${i}`, { 'x-other': String(i) })).status, 200);
  assert.equal(ratings.totals.misses - before.misses, 1, 'one question to mixer');
  assert.equal(ratings.totals.hits - before.hits, 9, 'path and unrelated headers do not split the cache');
  assert.equal((await mesh.call('reviews-v3', 'ratings', '/ratings/0')).status, 403);
  assert.equal(ratings.totals.misses - before.misses, 2, 'another source version is another key');
  assert.equal((await mesh.call('reviews-v3', 'ratings', '/ratings/1')).status, 403);
  assert.equal(ratings.totals.misses - before.misses, 2, 'the denial is cached too');
  // The rule goes away: mixer announces the change and the cached denial is void.
  await useConfig([]);
  await waitFor(async () => (await mesh.call('reviews-v3', 'ratings', '/ratings/0')).status === 200, { timeoutMs: 5000, what: 'v3 allowed after the rule is removed' });
});

test('a quota backend that is down never turns requests into 429s', { skip }, async () => {
  const { freePort } = await import('../support/wait.js');
  const deadPort = await freePort();
  const rl = sample('mixer-rule-productpage-ratelimit.yaml')!.map((r) => (r.kind === 'memquota'
    ? { ...r, kind: 'redisquota', metadata: { ...r.metadata, name: 'redishandler' }, spec: { redisServerUrl: `127.0.0.1:${deadPort}`, quotas: (r.spec as { quotas: unknown }).quotas } }
    : r.kind === 'rule' ? { ...r, spec: { actions: [{ handler: 'redishandler.redisquota', instances: ['requestcount.quota'] }] } } : r));
  await useConfig(rl);
  for (let i = 0; i < 8; i++) assert.equal((await mesh.call('istio-ingressgateway', 'productpage', '/productpage')).status, 200, `request ${i}`);
  const errors = metricSum(await metricsText(mesh.mixer!.metricsUrl), 'mixer_quota_backend_errors_total');
  assert.ok(errors >= 1, `backend errors counted (${errors})`);
});

test('default telemetry: access log lines with response flags, and traces assembled and exported as Zipkin v2', async () => {
  await useConfig([]);
  const rid = 'trace-test-0001';
  const r = await mesh.call('istio-ingressgateway', 'productpage', '/chain/details', { 'x-request-id': rid });
  assert.equal(r.status, 200);
  assert.match(r.body, /"upstream":200/);
  const trace = await waitFor(async () => {
    const res = await fetch(`${mesh.mixer!.apiUrl}/debug/traces/${rid}`);
    if (res.status !== 200) return undefined;
    const t = (await res.json()) as { path: string; spans: { id: string; parentId?: string; kind: string; localEndpoint: { serviceName: string } }[] };
    return t.spans.length >= 4 ? t : undefined;
  }, { timeoutMs: 10_000, what: 'a trace with four spans' });
  assert.equal(trace.path, 'istio-ingressgateway.default -> productpage.default -> details.default');
  const byKey = new Map(trace.spans.map((s) => [`${s.kind}:${s.localEndpoint.serviceName}`, s]));
  const gwClient = byKey.get('CLIENT:istio-ingressgateway.default')!;
  const ppServer = byKey.get('SERVER:productpage.default')!;
  const ppClient = byKey.get('CLIENT:productpage.default')!;
  const dServer = byKey.get('SERVER:details.default')!;
  assert.equal(gwClient.parentId, undefined, 'the root');
  assert.equal(ppServer.parentId, gwClient.id);
  assert.equal(ppClient.parentId, ppServer.id);
  assert.equal(dServer.parentId, ppClient.id);
  const exported = await waitFor(() => {
    const s = zipkinSpans.filter((x) => x.tags.guid === rid);
    return s.length >= 4 ? s : undefined;
  }, { timeoutMs: 10_000, what: 'spans at the zipkin collector' });
  assert.equal(new Set(exported.map((s) => s.traceId)).size, 1);

  // The denial earlier was logged with its response flag (RL for rate limits).
  await useConfig(sample('mixer-rule-deny-label.yaml')!);
  assert.equal((await mesh.call('reviews-v3', 'ratings', '/ratings/0', { 'x-request-id': 'denied-0001' })).status, 403);
  const line = await waitFor(() => mesh.mixer!.stdout.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return undefined; } })
    .find((e) => e?.requestId === 'denied-0001' && e.reporter === 'destination'), { timeoutMs: 10_000, what: 'the access log line' });
  assert.equal(line.instance, 'accesslog.instance.istio-system');
  assert.equal(line.responseCode, 403);
  assert.equal(line.responseFlags, 'UAEX');
  assert.equal(line.sourceWorkload, 'reviews-v3');
  assert.equal(line.destinationWorkload, 'ratings-v1');
  assert.equal(line.sourcePrincipal, 'cluster.local/ns/default/sa/bookinfo-reviews');
  assert.equal(line.connection_security_policy, 'mutual_tls');
});

test('mixer killed: a fail-closed sidecar answers 503, a fail-open one serves; both recover when mixer is back', async () => {
  await useConfig([]);
  assert.equal((await mesh.call('reviews-v2', 'details', '/details/0')).status, 200);
  await mesh.mixer!.kill();
  // Cached answers would hide the outage: make the next requests ask.
  mesh.sidecar('details-v1').policy!.cache.clear();
  mesh.sidecar('httpbin-v1').policy!.cache.clear();
  const closed = await mesh.call('reviews-v2', 'details', '/details/0');
  assert.equal(closed.status, 503);
  assert.match(closed.body, /^UNAVAILABLE:mixer:/);
  assert.equal((await mesh.call('reviews-v2', 'httpbin', '/get')).status, 200);
  assert.ok(mesh.sidecar('details-v1').policy!.totals.failClosed >= 1);
  assert.ok(mesh.sidecar('httpbin-v1').policy!.totals.failOpen >= 1);
  await mesh.startMixer();
  await waitFor(async () => (await mesh.call('reviews-v2', 'details', '/details/0')).status === 200, { timeoutMs: 10_000, what: 'fail-closed sidecar recovering' });
});

test('mixer reports a bad rule by code and file, and keeps serving the rest', async () => {
  const bad = resourcesFromYaml(`
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: { name: broken }
spec:
  match: destination.labels["app"] ==
  actions: []
`, 'broken.yaml');
  await useConfig([...sample('mixer-rule-deny-label.yaml') ?? [], ...bad]);
  const z = (await (await fetch(`${mesh.mixer!.apiUrl}/debug/configz`)).json()) as { problems: { code: string; resource: string; file: string }[] };
  assert.deepEqual(z.problems.map((p) => [p.code, p.resource, p.file]), [['MIXER_CONFIG_EXPRESSION', 'rule/default/broken', 'broken.yaml']]);
  if (!skip) assert.equal((await mesh.call('reviews-v3', 'ratings', '/ratings/0')).status, 403);
});
