import { test } from 'node:test';
import assert from 'node:assert/strict';
import { standardLabels, labelKey, STANDARD_LABEL_NAMES } from '../../../mixer/src/adapters/istio-labels.js';
import { record } from './fixtures.js';

test('a full record maps onto every Istio standard label', () => {
  const l = standardLabels(record());
  assert.deepEqual(Object.keys(l).sort(), [...STANDARD_LABEL_NAMES].sort());
  assert.equal(l.reporter, 'destination');
  assert.equal(l.source_app, 'productpage');
  assert.equal(l.source_principal, 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
  assert.equal(l.source_workload, 'productpage-v1');
  assert.equal(l.source_canonical_service, 'productpage');
  assert.equal(l.source_canonical_revision, 'v1');
  assert.equal(l.destination_version, 'v3');
  assert.equal(l.destination_service, 'reviews.default.svc.cluster.local');
  assert.equal(l.destination_service_name, 'reviews');
  assert.equal(l.destination_service_namespace, 'default');
  assert.equal(l.request_protocol, 'http');
  assert.equal(l.response_code, '200');
  assert.equal(l.response_flags, '-');
  assert.equal(l.connection_security_policy, 'mutual_tls');
});

test('empty values become "unknown", as Istio reports them', () => {
  const l = standardLabels(record({
    reporter: 'source',
    source: { workload: '', namespace: '', app: '', version: '', principal: '' },
    responseFlags: '',
    connectionSecurityPolicy: 'unknown',
  }));
  assert.equal(l.reporter, 'source');
  for (const k of ['source_app', 'source_principal', 'source_workload', 'source_workload_namespace', 'source_version', 'source_canonical_service'] as const) {
    assert.equal(l[k], 'unknown', k);
  }
  assert.equal(l.source_canonical_revision, 'latest');
  assert.equal(l.response_flags, '-');
  assert.equal(l.connection_security_policy, 'unknown');
});

test('a malformed record from the wire still yields a full label set', () => {
  const l = standardLabels({ reporter: 'sideways', responseCode: 'x' } as never);
  assert.equal(l.reporter, 'unknown');
  assert.equal(l.destination_service, 'unknown');
  assert.equal(l.response_code, '0');
  assert.equal(l.request_protocol, 'unknown');
  assert.equal(Object.values(l).every((v) => typeof v === 'string' && v.length > 0), true);
});

test('canonical names fall back to the workload, service name to the host', () => {
  const r = record();
  r.destination = { ...r.destination, app: '', version: '', serviceName: '' };
  const l = standardLabels(r);
  assert.equal(l.destination_canonical_service, 'reviews-v3');
  assert.equal(l.destination_canonical_revision, 'latest');
  assert.equal(l.destination_service_name, 'reviews');
});

test('the cache key tells label sets apart', () => {
  assert.equal(labelKey(record()), labelKey(record({ durationMs: 99 })));
  assert.notEqual(labelKey(record()), labelKey(record({ responseCode: 503 })));
  assert.notEqual(labelKey(record()), labelKey(record({ reporter: 'source' })));
});
