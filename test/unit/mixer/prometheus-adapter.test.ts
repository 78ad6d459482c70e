import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { PrometheusAdapter, DURATION_BUCKETS_MS } from '../../../mixer/src/adapters/prometheus.js';
import { record } from './fixtures.js';

interface Sample { value: number; labels: Record<string, string | number>; metricName?: string }

async function values(registry: Registry, name: string): Promise<Sample[]> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, `metric ${name} registered`);
  return (await m.get()).values as Sample[];
}

test('request counts add up per label set across batches', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([record(), record(), record({ responseCode: 503, responseFlags: 'UF' })]);
  a.handleReport([record(), record({ destination: { ...record().destination, version: 'v1', workload: 'reviews-v1' } })]);
  const v = await values(registry, 'istio_requests_total');
  const find = (f: (l: Record<string, string | number>) => boolean) => v.filter((x) => f(x.labels)).reduce((s, x) => s + x.value, 0);
  assert.equal(find((l) => l.destination_version === 'v3' && l.response_code === '200'), 3);
  assert.equal(find((l) => l.response_code === '503' && l.response_flags === 'UF'), 1);
  assert.equal(find((l) => l.destination_version === 'v1'), 1);
  assert.equal(find(() => true), 5);
});

test('durations and sizes land in Istio buckets', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([record({ durationMs: 3 }), record({ durationMs: 700 })]);
  const v = await values(registry, 'istio_request_duration_milliseconds');
  const buckets = v.filter((x) => x.metricName === 'istio_request_duration_milliseconds_bucket');
  assert.equal(buckets.length, DURATION_BUCKETS_MS.length + 1);
  const le = (b: number | string) => buckets.find((x) => x.labels.le === b)?.value;
  assert.equal(le(1), 0);
  assert.equal(le(5), 1);
  assert.equal(le(1000), 2);
  assert.equal(v.find((x) => x.metricName === 'istio_request_duration_milliseconds_sum')?.value, 703);
  const rb = await values(registry, 'istio_response_bytes');
  assert.equal(rb.find((x) => x.metricName === 'istio_response_bytes_bucket' && x.labels.le === 1000)?.value, 2);
});

test('tcp records feed the tcp metrics, not the request metrics', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([record({ protocol: 'tcp', requestBytes: 10, responseBytes: 20 })]);
  assert.equal((await values(registry, 'istio_requests_total')).length, 0);
  const sent = await values(registry, 'istio_tcp_sent_bytes_total');
  assert.equal(sent[0]?.value, 20);
  assert.equal(sent[0]?.labels.response_code, undefined);
  assert.equal((await values(registry, 'istio_tcp_received_bytes_total'))[0]?.value, 10);
  assert.equal((await values(registry, 'istio_tcp_connections_opened_total'))[0]?.value, 1);
});

test('garbage in a batch is skipped without throwing', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([null, 7, record({ durationMs: Number.NaN })] as never);
  assert.equal(a.describe().recordsSkipped, 2);
  const v = await values(registry, 'istio_requests_total');
  assert.equal(v.reduce((s, x) => s + x.value, 0), 1);
});

test("exact names, labels and buckets: Istio's standard HTTP metrics as Prometheus scrapes them", async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([record({ durationMs: 3, requestBytes: 5, responseBytes: 350 })]);
  const text = await registry.metrics();
  assert.match(text, /^# TYPE istio_requests_total counter$/m);
  for (const h of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) assert.match(text, new RegExp(`^# TYPE ${h} histogram$`, 'm'));
  const les = (name: string) => [...text.matchAll(new RegExp(`^${name}_bucket\\{.*le="([^"]+)"`, 'gm'))].map((m) => m[1]);
  // Istio's request duration buckets (milliseconds) and its size buckets (exponential, scale 1,
  // growth factor 10, 8 finite buckets: 1 B to 100 MB), then +Inf.
  assert.deepEqual(les('istio_request_duration_milliseconds'), ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf']);
  const sizes = ['1', '10', '100', '1000', '10000', '100000', '1000000', '10000000', '100000000', '+Inf'];
  assert.deepEqual(les('istio_request_bytes'), sizes);
  assert.deepEqual(les('istio_response_bytes'), sizes);
  const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{'))!;
  const names = [...line.matchAll(/(\w+)="/g)].map((m) => m[1]);
  // Istio 1.1's label set, then the canonical service/revision labels current Istio adds.
  for (const l of ['reporter', 'source_app', 'source_principal', 'source_workload', 'source_workload_namespace', 'source_version',
    'destination_app', 'destination_principal', 'destination_workload', 'destination_workload_namespace', 'destination_version',
    'destination_service', 'destination_service_name', 'destination_service_namespace', 'request_protocol', 'response_code',
    'response_flags', 'connection_security_policy', 'source_canonical_service', 'source_canonical_revision',
    'destination_canonical_service', 'destination_canonical_revision']) assert.ok(names.includes(l), `istio_requests_total lacks ${l}`);
  assert.equal(names.length, 22, names.join(','));
});
