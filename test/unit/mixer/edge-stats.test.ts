// The edge-stats adapter: one count per hop (caller's report), rates over the window,
// nearest-rank percentiles, mTLS share, and recent requests grouped by x-request-id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportRecord } from '#api';
import { EdgeStatsAdapter, percentile } from '../../../mixer/src/adapters/edge-stats.js';

const peer = (workload: string, app: string, version = 'v1') => ({ workload, namespace: 'default', app, version, principal: `spiffe://cluster.local/ns/default/sa/${app}` });

function record(over: Partial<ReportRecord> & { from: string; to: string; service: string }): ReportRecord {
  const { from, to, service, ...rest } = over;
  return {
    reporter: 'source',
    source: peer(from, from.split('-')[0]!),
    destination: { ...peer(to, to.split('-')[0]!), service: `${service}.default.svc.cluster.local`, serviceName: service, serviceNamespace: 'default' },
    protocol: 'http', responseCode: 200, responseFlags: '-', durationMs: 10, requestBytes: 0, responseBytes: 100,
    connectionSecurityPolicy: 'mutual_tls', timestamp: 1_000_000, ...rest,
  };
}

test('percentile is nearest-rank over sorted values', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 0.5), 50);
  assert.equal(percentile(v, 0.99), 99);
  assert.equal(percentile([7], 0.99), 7);
  assert.equal(percentile([], 0.5), null);
});

test('each hop counts once, from the caller; rates, errors and percentiles over the window', () => {
  let now = 1_000_000;
  const a = new EdgeStatsAdapter({ windowSeconds: 10, now: () => now });
  const recs: ReportRecord[] = [];
  for (let i = 0; i < 100; i++) {
    const code = i < 5 ? 503 : i < 15 ? 404 : 200;
    recs.push(record({ from: 'productpage-v1', to: 'reviews-v2', service: 'reviews', durationMs: i + 1, responseCode: code }));
    // The server side of the same hop must not double the count.
    recs.push(record({ from: 'productpage-v1', to: 'reviews-v2', service: 'reviews', reporter: 'destination', durationMs: i + 1, responseCode: code }));
  }
  a.handleReport(recs);
  now += 9_500; // still inside the 10 s window; the edge is younger than it, so averaged over its life
  const { edges } = a.edgeViews();
  assert.equal(edges.length, 1);
  const e = edges[0]!;
  assert.equal(e.windowRequests, 100);
  assert.equal(e.rps, 10.526);
  assert.equal(e.errorRate, 0.05);
  assert.equal(e.clientErrorRate, 0.1);
  assert.equal(e.p50Ms, 50);
  assert.equal(e.p99Ms, 99);
  assert.equal(e.mtls, 1);
  assert.deepEqual(e.codes, { '200': 85, '404': 10, '503': 5 });
  // Outside the window the edge disappears from the live view.
  now += 1_000;
  assert.equal(a.edgeViews().edges.length, 0);
});

test('a caller outside the mesh is counted from the server side; failures before the server from the caller', () => {
  const a = new EdgeStatsAdapter({ now: () => 5_000_000 });
  const outside = record({ from: 'x', to: 'productpage-v1', service: 'productpage', reporter: 'destination', connectionSecurityPolicy: 'none' });
  outside.source = { workload: '', namespace: '', app: '', version: '', principal: '' };
  const noUpstream = record({ from: 'productpage-v1', to: 'x', service: 'ratings', responseCode: 503, responseFlags: 'UH' });
  noUpstream.destination = { ...noUpstream.destination, workload: '', app: '', version: '' };
  a.handleReport([outside, noUpstream]);
  const edges = a.edgeViews().edges;
  assert.equal(edges.length, 2);
  const fromOutside = edges.find((e) => e.source.workload === 'unknown')!;
  assert.equal(fromOutside.destination.workload, 'productpage-v1');
  assert.equal(fromOutside.mtls, 0);
  const uh = edges.find((e) => e.destination.serviceName === 'ratings')!;
  assert.equal(uh.destination.workload, 'unknown');
  assert.equal(uh.errorRate, 1);
});

test('recent requests are grouped by x-request-id into timelines, newest first', () => {
  const a = new EdgeStatsAdapter({ maxTraces: 2 });
  a.handleReport([
    record({ from: 'istio-ingressgateway', to: 'productpage-v1', service: 'productpage', requestId: 'r1', durationMs: 40, timestamp: 2_000_040 }),
    record({ from: 'productpage-v1', to: 'reviews-v2', service: 'reviews', requestId: 'r1', durationMs: 20, timestamp: 2_000_030 }),
    record({ from: 'istio-ingressgateway', to: 'productpage-v1', service: 'productpage', requestId: 'r2', timestamp: 2_000_100 }),
    record({ from: 'istio-ingressgateway', to: 'productpage-v1', service: 'productpage', requestId: 'r3', timestamp: 2_000_200 }),
    record({ from: 'sleep', to: 'httpbin-v1', service: 'httpbin' }),
  ]);
  const traces = a.recentTraces();
  assert.deepEqual(traces.map((t) => t.requestId), ['r3', 'r2'], 'bounded, newest first');
  const b = new EdgeStatsAdapter();
  b.handleReport([
    record({ from: 'productpage-v1', to: 'reviews-v2', service: 'reviews', requestId: 'r1', durationMs: 20, timestamp: 2_000_030 }),
    record({ from: 'istio-ingressgateway', to: 'productpage-v1', service: 'productpage', requestId: 'r1', durationMs: 40, timestamp: 2_000_040 }),
  ]);
  const [t] = b.recentTraces();
  assert.equal(t!.startMs, 2_000_000);
  assert.equal(t!.durationMs, 40);
  assert.deepEqual(t!.spans.map((s) => s.source), ['istio-ingressgateway', 'productpage-v1'], 'spans ordered by start');
});

test('bad records never throw', () => {
  const a = new EdgeStatsAdapter();
  a.handleReport([null as unknown as ReportRecord, {} as ReportRecord, { reporter: 'source' } as ReportRecord]);
  assert.equal(a.edgeViews().edges.length, 1);
  assert.equal(a.edgeViews().edges[0]!.destination.service, 'unknown');
});
