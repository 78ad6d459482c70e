// A real nats-server, the mixer in-process on free ports: reports over the bus and over HTTP
// become Istio's standard metrics on /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, createLogger, subjects, type Bus, type CheckResponse, type ReportBatch } from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { startMixer, type RunningMixer } from '../../mixer/src/mixer.js';
import { mixerSettings } from '../../mixer/src/settings.js';
import { record } from '../unit/mixer/fixtures.js';

const log = createLogger('mixer-test', 'silent');
let nats: NatsServer;
let mixer: RunningMixer;
let bus: Bus;

before(async () => {
  nats = await startNats();
  const settings = mixerSettings.load({ MESH_NATS_URL: nats.url, MESH_MIXER_PORT: '0', MESH_MIXER_METRICS_PORT: '0' });
  mixer = await startMixer(settings, log, { processMetrics: false });
  bus = await connectBus({ servers: nats.url, name: 'test sidecar', log });
});

after(async () => {
  await bus?.close();
  await mixer?.close();
  await nats?.stop();
});

async function metricsText(): Promise<string> {
  const res = await fetch(`${mixer.metricsUrl}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('ready once subscribed to the bus', async () => {
  const res = await fetch(`${mixer.apiUrl}/ready`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { component: 'mixer', ready: true });
});

test('a ReportBatch published on the bus shows up as istio_requests_total', async () => {
  const batch: ReportBatch = { proxyId: 'reviews-v3-abcde.default', records: Array.from({ length: 7 }, () => record()), dropped: 2 };
  bus.publish(subjects.telemetryReport, batch);
  const labels = { reporter: 'destination', destination_version: 'v3', response_code: '200', source_app: 'productpage', destination_service: 'reviews.default.svc.cluster.local' };
  const n = await waitFor(async () => sample(await metricsText(), 'istio_requests_total', labels) === 7 || undefined, { what: 'istio_requests_total = 7' });
  assert.equal(n, true);
  const text = await metricsText();
  assert.match(text, /# TYPE istio_request_duration_milliseconds histogram/);
  assert.equal(sample(text, 'istio_request_duration_milliseconds_bucket', { ...labels, le: '25' }), 7);
  assert.equal(sample(text, 'mixer_report_dropped_total', {}) ?? Number(/^mixer_report_dropped_total (\d+)/m.exec(text)?.[1]), 2);
});

test('POST /report takes the same batch over HTTP; bad input is a 400 with a code', async () => {
  const batch: ReportBatch = { proxyId: 'p', records: [record({ responseCode: 503, responseFlags: 'UF' })], dropped: 0 };
  const ok = await fetch(`${mixer.apiUrl}/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { accepted: 1 });
  assert.equal(sample(await metricsText(), 'istio_requests_total', { response_code: '503', response_flags: 'UF' }), 1);

  const bad = await fetch(`${mixer.apiUrl}/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: 'x' }) });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, 'MIXER_BAD_REPORT');
  const junk = await fetch(`${mixer.apiUrl}/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  assert.equal(junk.status, 400);
});

test('checks answer allow over the bus and HTTP; debug stats show the counts', async () => {
  const req = { proxyId: 'p', source: record().source, destination: record().destination };
  const viaBus = await bus.request<CheckResponse>(subjects.policyCheck, req);
  assert.equal(viaBus.allowed, true);
  assert.ok(viaBus.validDurationMs > 0);
  const viaHttp = await fetch(`${mixer.apiUrl}/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
  assert.equal(((await viaHttp.json()) as CheckResponse).allowed, true);
  const stats = (await (await fetch(`${mixer.apiUrl}/debug/stats`)).json()) as { report: { totals: { records: number } }; check: { totals: { allowed: number } } };
  assert.ok(stats.report.totals.records >= 8);
  assert.equal(stats.check.totals.allowed, 2);
});
