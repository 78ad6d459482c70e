// Traces assembled from report records: parents from the call structure, Zipkin v2 fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportRecord } from '#api';
import { TraceAssembler, type ZipkinSpan } from '../../../mixer/src/tracing/traces.js';
import { record } from './fixtures.js';

const peer = (workload: string, app: string) => ({ workload, namespace: 'default', app, version: 'v1', principal: '' });
function hop(reporter: 'source' | 'destination', from: [string, string], to: [string, string], endMs: number, durationMs: number): ReportRecord {
  return record({
    reporter, source: peer(...from), requestId: 'rid-1', timestamp: endMs, durationMs,
    destination: { ...peer(...to), service: `${to[1]}.default.svc.cluster.local`, serviceName: to[1], serviceNamespace: 'default' },
  });
}

test('gateway -> productpage -> reviews: each span\'s parent is its caller', () => {
  const exported: ZipkinSpan[] = [];
  let now = 0;
  const t = new TraceAssembler({ export: (s) => exported.push(...s), completeAfterMs: 100, now: () => now });
  const gw: [string, string] = ['istio-ingressgateway', 'istio-ingressgateway'], pp: [string, string] = ['productpage-v1', 'productpage'], rv: [string, string] = ['reviews-v2', 'reviews'];
  t.handleReport([
    hop('destination', pp, rv, 1050, 20), hop('source', pp, rv, 1052, 24),
    hop('destination', gw, pp, 1060, 50), hop('source', gw, pp, 1061, 55),
  ]);
  const [view] = t.list(1);
  assert.equal(view!.path, 'istio-ingressgateway.default -> productpage.default -> reviews.default');
  assert.equal(view!.durationMs, 55);
  const by = new Map(view!.spans.map((s) => [`${s.kind}:${s.localEndpoint.serviceName}`, s]));
  assert.equal(by.get('CLIENT:istio-ingressgateway.default')!.parentId, undefined);
  assert.equal(by.get('SERVER:productpage.default')!.parentId, by.get('CLIENT:istio-ingressgateway.default')!.id);
  assert.equal(by.get('CLIENT:productpage.default')!.parentId, by.get('SERVER:productpage.default')!.id);
  assert.equal(by.get('SERVER:reviews.default')!.parentId, by.get('CLIENT:productpage.default')!.id);
  const s = by.get('SERVER:reviews.default')!;
  assert.equal(s.timestamp, 1_030_000);
  assert.equal(s.duration, 20_000);
  assert.match(s.traceId, /^[0-9a-f]{32}$/);
  assert.equal(s.tags['guid:x-request-id'], 'rid-1');
  assert.equal(exported.length, 0, 'not exported while the trace is still growing');
  now = 200;
  t.sweep();
  assert.equal(exported.length, 4);
  t.sweep();
  assert.equal(exported.length, 4, 'exported once');
});

test('meshctl traces prints a trace as a span tree', async () => {
  const { spanTree } = await import('../../../meshctl/src/commands/traces.js');
  const t = new TraceAssembler();
  const gw: [string, string] = ['istio-ingressgateway', 'istio-ingressgateway'], pp: [string, string] = ['productpage-v1', 'productpage'];
  t.handleReport([hop('destination', gw, pp, 2040, 30), hop('source', gw, pp, 2041, 35)]);
  const view = t.list(1)[0]!;
  const text = spanTree(view as Parameters<typeof spanTree>[0]);
  assert.equal(text, [
    `trace ${view.traceId}  x-request-id rid-1  35ms  istio-ingressgateway.default -> productpage.default`,
    '  +0.0ms 35.0ms  istio-ingressgateway.default -> productpage.default  GET /reviews/0 200',
    '    +4.0ms 30.0ms  productpage.default (server)  GET /reviews/0 200',
    '',
  ].join('\n'));
});

test('the zipkin adapter turns Istio 1.1 tracespan instances into Zipkin v2 spans', async () => {
  const { newRuntime, resourcesFromYaml } = await import('./fixtures.js');
  const http = await import('node:http');
  const got: ZipkinSpan[] = [];
  const server = http.createServer((req, res) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => { got.push(...JSON.parse(b)); res.writeHead(202); res.end(); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const { runtime } = newRuntime();
    const problems = runtime.apply(resourcesFromYaml(`
apiVersion: config.istio.io/v1alpha2
kind: tracespan
metadata: { name: default, namespace: istio-system }
spec:
  traceId: request.headers["x-b3-traceid"]
  spanId: request.headers["x-b3-spanid"] | ""
  parentSpanId: request.headers["x-b3-parentspanid"] | ""
  spanName: request.path | "/"
  startTime: request.time
  endTime: response.time
  clientSpan: (context.reporter.kind | "inbound") == "outbound"
  sourceName: source.workload.name | "unknown"
  destinationName: destination.workload.name | "unknown"
  httpStatusCode: response.code | 0
  spanTags:
    http.method: request.method | ""
---
apiVersion: config.istio.io/v1alpha2
kind: zipkin
metadata: { name: zipkin, namespace: istio-system }
spec: { url: "http://127.0.0.1:${port}/api/v2/spans", sampleProbability: 1 }
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: { name: trace, namespace: istio-system }
spec:
  match: "true"
  actions: [ { handler: zipkin.zipkin, instances: [ default.tracespan ] } ]
`), 'v1');
    assert.deepEqual(problems, []);
    runtime.handleReport([record({ traceId: '463ac35c9f6413ad48485a3953bb6124', spanId: 'a2fb4a1d1a96d312', timestamp: 5000, durationMs: 20 })]);
    const [span] = await waitForSpans(got);
    assert.equal(span!.traceId, '463ac35c9f6413ad48485a3953bb6124');
    assert.equal(span!.id, 'a2fb4a1d1a96d312');
    assert.equal(span!.kind, 'SERVER');
    assert.equal(span!.name, '/reviews/0');
    assert.equal(span!.timestamp, 4_980_000);
    assert.equal(span!.duration, 20_000);
    assert.deepEqual(span!.tags, { 'http.method': 'GET', 'http.status_code': '200' });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

async function waitForSpans(got: ZipkinSpan[]): Promise<ZipkinSpan[]> {
  const { waitFor } = await import('../../support/wait.js');
  return waitFor(() => (got.length ? got : undefined), { timeoutMs: 5000, what: 'spans at the collector' });
}
