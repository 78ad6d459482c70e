// P6: mixer's intake rate (ReportBatches over the bus, the way sidecars send them, with a
// bounded window of records in flight so nats-server never drops for a slow consumer), and
// the latency of a policy check over the bus (uncached: the sidecar has no check cache yet).
// What telemetry costs P1 is measured with the data plane (scenarios/data-plane.ts).

import { connectBus, createLogger, subjects, type CheckRequest, type ReportBatch, type ReportRecord } from '#api';
import { startMixer, startNatsServer, type BenchEnv } from '../control-plane.js';
import { stopAll } from '../procs.js';

export interface MixerResult {
  ingest: { records: number; batchSize: number; seconds: number; recordsPerSecond: number };
  check: { uncached: { requests: number; p50Us: number; p99Us: number }; cached: string };
}

function record(i: number): ReportRecord {
  const peer = (app: string) => ({ workload: `${app}-v1`, namespace: 'default', app, version: 'v1', principal: `spiffe://cluster.local/ns/default/sa/bookinfo-${app}` });
  return {
    reporter: i % 2 ? 'source' : 'destination',
    source: peer('productpage'),
    destination: { ...peer(i % 3 ? 'reviews' : 'details'), service: `${i % 3 ? 'reviews' : 'details'}.default.svc.cluster.local`, serviceName: i % 3 ? 'reviews' : 'details', serviceNamespace: 'default' },
    protocol: 'http', method: 'GET', path: '/reviews/0', responseCode: i % 50 ? 200 : 503, responseFlags: '-',
    durationMs: 1 + (i % 17) / 3, requestBytes: 0, responseBytes: 1024, connectionSecurityPolicy: 'mutual_tls',
    requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, timestamp: Date.now(),
  };
}

async function ingested(url: string): Promise<number> {
  const res = await fetch(`${url}/debug/stats`);
  const s = (await res.json()) as { report: { totals: { records: number } } };
  return s.report.totals.records;
}

export async function runMixer(env: BenchEnv, o: { quick: boolean }, progress: (m: string) => void): Promise<MixerResult> {
  const nats = await startNatsServer(env, 'nats-p6');
  const bus = await connectBus({ servers: nats.url, name: 'bench p6', log: createLogger('bench', 'silent') });
  try {
    const mixer = await startMixer(env, nats);
    const batchSize = 500;
    const batches = o.quick ? 200 : 1000;
    const window = 20;
    const payload: ReportBatch = { proxyId: 'bench-proxy.default', records: Array.from({ length: batchSize }, (_, i) => record(i)), dropped: 0 };
    // Warm-up: label sets and JIT.
    for (let i = 0; i < 10; i++) bus.publish(subjects.telemetryReport, payload);
    await bus.flush();
    while ((await ingested(mixer.url)) < 10 * batchSize) await new Promise((r) => setTimeout(r, 20));
    const base = await ingested(mixer.url);
    const t0 = performance.now();
    let sent = 0;
    let seen = 0;
    while (seen < batches * batchSize) {
      while (sent < batches && (sent * batchSize) - seen < window * batchSize) {
        bus.publish(subjects.telemetryReport, payload);
        sent++;
      }
      await bus.flush();
      seen = (await ingested(mixer.url)) - base;
    }
    const seconds = (performance.now() - t0) / 1000;
    const ingest = { records: batches * batchSize, batchSize, seconds: Math.round(seconds * 1000) / 1000, recordsPerSecond: Math.round((batches * batchSize) / seconds) };
    progress(`P6 mixer: ${ingest.recordsPerSecond} records/s`);

    const req: CheckRequest = {
      proxyId: 'bench-proxy.default',
      source: { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' },
      destination: { workload: 'reviews-v1', namespace: 'default', app: 'reviews', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', service: 'reviews.default.svc.cluster.local', serviceName: 'reviews', serviceNamespace: 'default' },
      request: { method: 'GET', path: '/reviews/0' },
    };
    const n = o.quick ? 500 : 3000;
    for (let i = 0; i < 50; i++) await bus.request(subjects.policyCheck, req, 5000);
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await bus.request(subjects.policyCheck, req, 5000);
      lat.push((performance.now() - t) * 1000);
    }
    lat.sort((a, b) => a - b);
    const check = {
      uncached: { requests: n, p50Us: Math.round(lat[Math.floor(n * 0.5)]!), p99Us: Math.round(lat[Math.floor(n * 0.99)]!) },
      cached: 'not measured: the sidecar does not call mixer checks yet, so there is no sidecar-side check cache to time',
    };
    progress(`P6 check over the bus: p50 ${check.uncached.p50Us} us, p99 ${check.uncached.p99Us} us`);
    return { ingest, check };
  } finally {
    await bus.close();
    await stopAll();
  }
}
