// TCP telemetry from sidecar records (protocol 'tcp', tcpEvent 'opened' | 'closed'): Istio 1.1's
// four TCP metrics with its TCP label set, the default tcpaccesslog with connection.event, and
// TCP records never reaching the HTTP metrics, the console's edge counts twice, or traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ReportRecord } from '#api';
import { PrometheusAdapter } from '../../../mixer/src/adapters/prometheus.js';
import { EdgeStatsAdapter } from '../../../mixer/src/adapters/edge-stats.js';
import { TraceAssembler } from '../../../mixer/src/tracing/traces.js';
import { reportBag } from '../../../mixer/src/config/attributes.js';
import { defaultResources } from '../../../mixer/src/config/defaults.js';
import { newRuntime, record } from './fixtures.js';

/** Istio 1.1's TCP metric labels (mixer's helm chart: tcpbytesent, tcpbytereceived,
 *  tcpconnectionsopened, tcpconnectionsclosed): no request_protocol, no response_code. */
const ISTIO_11_TCP_LABELS = [
  'reporter', 'source_app', 'source_principal', 'source_workload', 'source_workload_namespace', 'source_version',
  'destination_app', 'destination_principal', 'destination_workload', 'destination_workload_namespace', 'destination_version',
  'destination_service', 'destination_service_name', 'destination_service_namespace', 'connection_security_policy', 'response_flags',
];
const TCP_METRICS = ['istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total', 'istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total'];
const HTTP_METRICS = ['istio_requests_total', 'istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes'];

/** reviews-v3 -> mongodb on 27017, as the server's sidecar reports a TCP connection. */
function tcp(event: 'opened' | 'closed' | undefined, over: Partial<ReportRecord> = {}): ReportRecord {
  const r = record({
    protocol: 'tcp', responseCode: 0, method: undefined, path: undefined,
    destination: {
      workload: 'mongodb-v1', namespace: 'default', app: 'mongodb', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-mongodb',
      service: 'mongodb.default.svc.cluster.local', serviceName: 'mongodb', serviceNamespace: 'default',
    },
    requestBytes: event === 'closed' ? 1200 : 0,
    responseBytes: event === 'closed' ? 34000 : 0,
    durationMs: event === 'closed' ? 2500 : 0,
    ...over,
  });
  if (event) r.tcpEvent = event;
  return r;
}

interface Sample { value: number; labels: Record<string, string | number>; metricName?: string }

async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, `metric ${name} registered`);
  return (await m.get()).values as Sample[];
}

async function total(registry: Registry, name: string): Promise<number> {
  return (await samples(registry, name)).reduce((s, x) => s + x.value, 0);
}

test('opened and closed records drive the four TCP metrics; bytes count once, on close', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  // Three connections open; two of them close (in a later batch, as the sidecar sends them).
  a.handleReport([tcp('opened'), tcp('opened'), tcp('opened')]);
  assert.equal(await total(registry, 'istio_tcp_connections_opened_total'), 3);
  assert.equal(await total(registry, 'istio_tcp_connections_closed_total'), 0);
  assert.equal(await total(registry, 'istio_tcp_sent_bytes_total'), 0, 'an open carries no bytes');
  a.handleReport([tcp('closed'), tcp('closed', { requestBytes: 800, responseBytes: 6000 })]);
  assert.equal(await total(registry, 'istio_tcp_connections_opened_total'), 3);
  assert.equal(await total(registry, 'istio_tcp_connections_closed_total'), 2);
  // received = what the server got from the client (request), sent = what it sent back.
  assert.equal(await total(registry, 'istio_tcp_received_bytes_total'), 1200 + 800);
  assert.equal(await total(registry, 'istio_tcp_sent_bytes_total'), 34000 + 6000);
  for (const name of HTTP_METRICS) assert.equal((await samples(registry, name)).length, 0, `${name} got a TCP record`);
});

test("TCP series carry Istio 1.1's TCP label set, never request_protocol or response_code", async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([tcp('opened'), tcp('closed', { responseFlags: 'UF', connectionSecurityPolicy: 'mutual_tls' })]);
  for (const name of TCP_METRICS) {
    const [s] = await samples(registry, name);
    assert.ok(s, `${name} has a series`);
    const names = Object.keys(s.labels);
    for (const l of ISTIO_11_TCP_LABELS) assert.ok(names.includes(l), `${name} lacks ${l}`);
    assert.ok(!names.includes('request_protocol') && !names.includes('response_code'), `${name}: ${names.join(',')}`);
    assert.equal(s.labels.destination_workload, 'mongodb-v1');
    assert.equal(s.labels.destination_service, 'mongodb.default.svc.cluster.local');
    assert.equal(s.labels.source_workload, 'productpage-v1');
    assert.equal(s.labels.connection_security_policy, 'mutual_tls');
  }
  const closed = await samples(registry, 'istio_tcp_connections_closed_total');
  assert.equal(closed.find((s) => s.labels.response_flags === 'UF')?.value, 1);
  // Exposition: exact names and counter types, as Prometheus scrapes them.
  const text = await registry.metrics();
  for (const name of TCP_METRICS) assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
  assert.match(text, /^istio_tcp_connections_opened_total\{reporter="destination",source_app="productpage",.*destination_workload="mongodb-v1",.*response_flags="-",connection_security_policy="mutual_tls"\} 1$/m);
});

test('a mixed batch: HTTP records reach only the HTTP metrics, TCP records only the TCP ones', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([record(), tcp('opened'), record({ responseCode: 503, responseFlags: 'UF' }), tcp('closed'), record()]);
  assert.equal(await total(registry, 'istio_requests_total'), 3);
  const protocols = new Set((await samples(registry, 'istio_requests_total')).map((s) => s.labels.request_protocol));
  assert.deepEqual([...protocols], ['http']);
  const durations = (await samples(registry, 'istio_request_duration_milliseconds')).filter((s) => s.metricName?.endsWith('_count'));
  assert.equal(durations.reduce((s, x) => s + x.value, 0), 3, 'a TCP lifetime is not a request duration');
  const workloads = new Set((await samples(registry, 'istio_requests_total')).map((s) => s.labels.destination_workload));
  assert.ok(!workloads.has('mongodb-v1'));
  assert.equal(await total(registry, 'istio_tcp_connections_opened_total'), 1);
  assert.equal(await total(registry, 'istio_tcp_connections_closed_total'), 1);
});

test('a TCP record without an event is a whole connection; an unknown event is skipped', async () => {
  const registry = new Registry();
  const a = new PrometheusAdapter({ registry });
  a.handleReport([tcp(undefined, { requestBytes: 10, responseBytes: 20 })]);
  assert.equal(await total(registry, 'istio_tcp_connections_opened_total'), 1);
  assert.equal(await total(registry, 'istio_tcp_connections_closed_total'), 1);
  assert.equal(await total(registry, 'istio_tcp_received_bytes_total'), 10);
  assert.equal(await total(registry, 'istio_tcp_sent_bytes_total'), 20);
  a.handleReport([tcp(undefined, { tcpEvent: 'continue' as never })]);
  assert.equal(a.describe().recordsSkipped, 1);
  assert.equal(await total(registry, 'istio_tcp_connections_opened_total'), 1);
});

test('connection.event is open/close; the default tcpaccesslog logs both, the HTTP access log neither', () => {
  assert.equal(reportBag(tcp('opened')).get('connection.event'), 'open');
  assert.equal(reportBag(tcp('closed')).get('connection.event'), 'close');
  assert.equal(reportBag(tcp('closed')).get('connection.sent.bytes'), 34000);
  assert.equal(reportBag(tcp('closed')).get('connection.received.bytes'), 1200);
  assert.equal(reportBag(tcp('closed')).get('response.code'), undefined);
  assert.equal(reportBag(record()).get('connection.event'), undefined);

  const { runtime, lines } = newRuntime();
  const problems = runtime.apply(defaultResources(), 'defaults').filter((p) => p.level === 'Error');
  assert.deepEqual(problems, []);
  runtime.handleReport([tcp('opened'), tcp('closed')]);
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(logged.length, 2, lines.join('\n'));
  assert.deepEqual(logged.map((l) => l.connectionEvent), ['open', 'close']);
  for (const l of logged) {
    assert.equal(l.protocol, 'tcp');
    assert.equal(l.method, undefined, 'a TCP line is not the HTTP access log');
  }
  assert.equal(logged[1]!.sentBytes, 34000);
  assert.equal(logged[1]!.receivedBytes, 1200);
});

test("the console's edge counts a TCP connection once (on close); traces hold requests only", () => {
  const edges = new EdgeStatsAdapter({ now: () => 7_000_000 });
  const src = { reporter: 'source' as const };
  edges.handleReport([tcp('opened', src), tcp('closed', src), tcp('opened', src)]);
  const [edge] = edges.edgeViews().edges;
  assert.ok(edge);
  assert.equal(edge.protocol, 'tcp');
  assert.equal(edge.windowRequests, 1);
  assert.deepEqual(edges.recentTraces(10), [], 'TCP records are not requests');

  const traces = new TraceAssembler();
  traces.handleReport([tcp('opened', { requestId: 'abc' }), tcp('closed', { requestId: 'abc' }), record({ requestId: 'req-1' })]);
  const listed = traces.list(10);
  assert.equal(listed.length, 1);
  assert.equal(traces.describe().spansSeen, 1);
});
