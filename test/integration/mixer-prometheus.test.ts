// Debian's real prometheus scrapes mixer and answers Istio's dashboard query
// `sum(rate(istio_requests_total[1m])) by (destination_workload)`. Skipped (with the reason)
// when the prometheus binary is not installed (apt-get install -y prometheus).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type ReportBatch } from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { freePort, waitFor } from '../support/wait.js';
import { startMixer, type RunningMixer } from '../../mixer/src/mixer.js';
import { mixerSettings } from '../../mixer/src/settings.js';
import { record } from '../unit/mixer/fixtures.js';

const bin = process.env.MESH_PROMETHEUS_BIN ?? 'prometheus';
const hasPrometheus = spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasPrometheus ? false : `no ${bin} binary (apt-get install -y prometheus)`;

let nats: NatsServer;
let mixer: RunningMixer;
let prom: ChildProcess | undefined;
let dir: string;
let promUrl: string;
let feeding: NodeJS.Timeout | undefined;

before(async () => {
  if (skip) return;
  nats = await startNats();
  mixer = await startMixer(mixerSettings.load({ MESH_NATS_URL: nats.url, MESH_MIXER_PORT: '0', MESH_MIXER_METRICS_PORT: '0', MESH_MIXER_ACCESS_LOG: 'off' }), createLogger('mixer-test', 'silent'), { processMetrics: false });
  dir = mkdtempSync(join(tmpdir(), 'mesh-prom-'));
  const target = new URL(mixer.metricsUrl).host;
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '- job_name: mixer',
    `  static_configs: [ { targets: ["${target}"] } ]`,
    '',
  ].join('\n'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
  await waitFor(async () => (await fetch(`${promUrl}/-/ready`)).ok, { timeoutMs: 30_000, what: 'prometheus ready' });
  // Traffic keeps flowing while prometheus scrapes: rate() needs two samples that differ.
  const send = (workload: string, n: number) => {
    const batch: ReportBatch = { proxyId: 'p', dropped: 0, records: Array.from({ length: n }, () => record({ destination: { ...record().destination, workload } })) };
    return fetch(`${mixer.apiUrl}/report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
  };
  feeding = setInterval(() => { void send('reviews-v3', 5).catch(() => {}); void send('ratings-v1', 2).catch(() => {}); }, 200);
});

after(async () => {
  if (feeding) clearInterval(feeding);
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  }
  await mixer?.close();
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('prometheus answers sum(rate(istio_requests_total[1m])) by (destination_workload)', { skip, timeout: 90_000 }, async () => {
  const query = 'sum(rate(istio_requests_total[1m])) by (destination_workload)';
  type Result = { metric: { destination_workload: string }; value: [number, string] }[];
  const result = await waitFor(async () => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { status: string; data: { result: Result } };
    const r = body.data.result;
    return r.length >= 2 && r.every((x) => Number(x.value[1]) > 0) ? r : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500, what: 'a non-zero rate for both workloads' });
  const byWorkload = Object.fromEntries(result.map((r) => [r.metric.destination_workload, Number(r.value[1])]));
  assert.deepEqual(Object.keys(byWorkload).sort(), ['ratings-v1', 'reviews-v3']);
  assert.ok(byWorkload['reviews-v3']! > byWorkload['ratings-v1']!, `reviews-v3 gets more traffic: ${JSON.stringify(byWorkload)}`);
  const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
  assert.equal(targets.data.activeTargets[0]?.health, 'up');
});
