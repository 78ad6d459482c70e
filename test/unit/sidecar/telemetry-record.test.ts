// The per-request telemetry record: its peer halves are built once per endpoint (source side)
// or per local service (destination side) and shared, and still say the right thing when the
// request decides them (no endpoint, passthrough) or the workload's identity changes; and
// the reporter publishes full batches at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { createLogger, type PeerInfo, type ReportBatch } from '#api';
import { newExchange, type Exchange } from '../../../sidecar/src/exchange.js';
import { compileProxyConfig } from '../../../sidecar/src/compile.js';
import { buildRecord, DestinationCache } from '../../../sidecar/src/layers/telemetry.js';
import { TelemetryReporter } from '../../../sidecar/src/telemetry.js';
import { reviewsConfig, endpoint, REVIEWS } from '../../support/sidecar-config.js';

const self: PeerInfo = { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' };

function exchange(direction: 'outbound' | 'inbound', path = '/reviews/0?u=1'): Exchange {
  const req = { method: 'GET', url: path, headers: { 'x-request-id': 'rid-1' } } as unknown as IncomingMessage;
  const ex = newExchange(req, direction, performance.now());
  ex.authority = 'reviews:9080';
  ex.path = path;
  return ex;
}

const compiled = compileProxyConfig(reviewsConfig('p', { v1: [endpoint('10.0.0.1', 15006, 'v1'), endpoint('10.0.0.2', 15006, 'v1')], v2: [] }), 'v');
const v1 = [...compiled.clusters.values()].find((c) => c.name.includes('|v1|'))!;

test('source side: the destination half is the endpoint\'s workload and its cluster\'s service, shared per endpoint', () => {
  const cache = new DestinationCache();
  const records = [0, 1, 2].map((i) => {
    const ex = exchange('outbound');
    ex.cluster = v1;
    ex.endpoint = v1.endpoints[i % 2]!;
    ex.requestBytes = 10;
    ex.responseBytes = 1024;
    ex.flags.push('URX');
    return buildRecord(ex, 200, 'source', self, cache);
  });
  const [a, b, c] = records as [typeof records[0], typeof records[0], typeof records[0]];
  assert.equal(a.source, self);
  assert.deepEqual({ ...a.destination }, { ...v1.endpoints[0]!.destination, service: REVIEWS, serviceName: 'reviews', serviceNamespace: 'default' });
  assert.equal(a.destination.workload, 'reviews-v1');
  assert.equal(a.destination, c.destination, 'same endpoint: one shared object');
  assert.notEqual(a.destination, b.destination, 'another endpoint: its own');
  assert.equal(a.path, '/reviews/0');
  assert.equal(a.responseFlags, 'URX');
  assert.equal(a.requestId, 'rid-1');
  assert.equal(a.connectionSecurityPolicy, 'mutual_tls');
  assert.deepEqual([a.requestBytes, a.responseBytes, a.responseCode], [10, 1024, 200]);
  // The uncached build says the same.
  const ex = exchange('outbound');
  ex.cluster = v1;
  ex.endpoint = v1.endpoints[0]!;
  assert.deepEqual({ ...buildRecord(ex, 200, 'source', self).destination }, { ...a.destination });
});

test('source side without an endpoint names the service by the request, never from the cache', () => {
  const cache = new DestinationCache();
  const ex = exchange('outbound');
  const r = buildRecord(ex, 404, 'source', self, cache);
  assert.equal(r.destination.workload, 'unknown');
  assert.equal(r.destination.service, 'reviews');
  const other = exchange('outbound');
  other.authority = 'ratings:9080';
  assert.equal(buildRecord(other, 404, 'source', self, cache).destination.service, 'ratings');
  assert.equal(r.connectionSecurityPolicy, 'unknown');
});

test('destination side: this workload serving the addressed service, rebuilt when the identity changes', () => {
  const cache = new DestinationCache();
  const source: PeerInfo = { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', principal: 'spiffe://x' };
  const mk = (service: string) => {
    const ex = exchange('inbound');
    ex.destinationService = service;
    ex.source = source;
    return ex;
  };
  const server: PeerInfo = { workload: 'reviews-v1', namespace: 'default', app: 'reviews', version: 'v1', principal: 'spiffe://a' };
  const a = buildRecord(mk(REVIEWS), 200, 'destination', server, cache);
  const b = buildRecord(mk(REVIEWS), 200, 'destination', server, cache);
  assert.equal(a.source, source);
  assert.equal(a.destination, b.destination);
  assert.deepEqual({ ...a.destination }, { ...server, service: REVIEWS, serviceName: 'reviews', serviceNamespace: 'default' });
  assert.equal(a.connectionSecurityPolicy, 'mutual_tls');
  const rotated = { ...server, principal: 'spiffe://b' };
  const c = buildRecord(mk(REVIEWS), 200, 'destination', rotated, cache);
  assert.equal(c.destination.principal, 'spiffe://b');
  assert.equal(buildRecord(mk('details.other.svc.cluster.local'), 200, 'destination', rotated, cache).destination.serviceNamespace, 'other');
});

test('the reporter publishes a full batch at once instead of growing it until the timer', () => {
  const sent: ReportBatch[] = [];
  const t = new TelemetryReporter({ proxyId: 'p', publish: (b) => sent.push(b), batchMs: 60_000, bufferSize: 1000, maxBatchRecords: 4, log: createLogger('t', 'silent') });
  const ex = exchange('outbound');
  for (let i = 0; i < 10; i++) t.record(buildRecord(ex, 200, 'source', self));
  assert.deepEqual(sent.map((b) => b.records.length), [4, 4]);
  assert.equal(t.snapshot().buffered, 2);
  t.stop();
  assert.deepEqual(sent.map((b) => b.records.length), [4, 4, 2]);
  assert.equal(t.snapshot().recorded, 10);
});
