import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from '#api';
import { ReportIngest, checkBatch } from '../../../mixer/src/report.js';
import { CheckEngine } from '../../../mixer/src/check.js';
import { PrometheusAdapter } from '../../../mixer/src/adapters/prometheus.js';
import type { Adapter } from '../../../mixer/src/adapters/adapter.js';
import { record } from './fixtures.js';

const log = createLogger('mixer-test', 'silent');

async function total(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, name);
  return (await m.get()).values.reduce((s, x) => s + x.value, 0);
}

test('batches are checked for shape with a code naming the field', () => {
  assert.equal(checkBatch({ proxyId: 'a', records: [], dropped: 0 }).ok, true);
  const bad = checkBatch({ proxyId: 'a', records: 'nope' });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.message : '', /records/);
  assert.equal(checkBatch({ records: [], dropped: -1 }).ok, false);
  assert.equal(checkBatch([]).ok, false);
  assert.equal(checkBatch(null).ok, false);
});

test('ingest counts batches, records and sidecar drops, and feeds every adapter', async () => {
  const registry = new Registry();
  const seen: number[] = [];
  const spy: Adapter = { name: 'spy', handleReport: (r) => { seen.push(r.length); }, describe: () => ({}) };
  const ingest = new ReportIngest({ adapters: [new PrometheusAdapter({ registry }), spy], registry, log });
  ingest.ingest({ proxyId: 'p1', records: [record(), record()], dropped: 3 }, 'bus');
  ingest.ingest({ proxyId: 'p2', records: [record()], dropped: 0 }, 'http');
  ingest.ingest({ proxyId: 'p2', records: 5 }, 'http');
  assert.deepEqual(seen, [2, 1]);
  assert.equal(await total(registry, 'mixer_report_batches_total'), 2);
  assert.equal(await total(registry, 'mixer_report_records_total'), 3);
  assert.equal(await total(registry, 'mixer_report_dropped_total'), 3);
  assert.equal(await total(registry, 'mixer_report_rejected_total'), 1);
  assert.equal(await total(registry, 'istio_requests_total'), 3);
  const s = ingest.stats();
  assert.equal(s.totals.records, 3);
  assert.equal(s.proxies.p1?.dropped, 3);
  assert.equal(s.proxies.p2?.batches, 1);
});

test('an adapter that throws is counted and does not stop the others', async () => {
  const registry = new Registry();
  const broken: Adapter = { name: 'broken', handleReport: () => { throw new Error('boom'); }, describe: () => ({}) };
  const ingest = new ReportIngest({ adapters: [broken, new PrometheusAdapter({ registry })], registry, log });
  ingest.ingest({ proxyId: 'p', records: [record()], dropped: 0 }, 'bus');
  assert.equal(await total(registry, 'mixer_adapter_errors_total'), 1);
  assert.equal(await total(registry, 'istio_requests_total'), 1);
});

test('checks allow with a validity while the rule set is empty; a rule can deny', () => {
  const engine = new CheckEngine({ registry: new Registry(), validDurationMs: 60_000, validUseCount: 100 });
  const req = { proxyId: 'p', source: record().source, destination: record().destination };
  assert.deepEqual(engine.check(req), { allowed: true, validDurationMs: 60_000, validUseCount: 100 });
  engine.setRules([{ name: 'deny-v3', evaluate: (r) => (r.destination.version === 'v3' ? { allowed: false, code: 'PERMISSION_DENIED', message: 'no', validDurationMs: 1000, validUseCount: 1 } : undefined) }]);
  const denied = engine.check(req);
  assert.equal(denied.allowed, false);
  assert.equal(denied.rule, 'deny-v3');
  assert.equal(engine.check('junk').code, 'INVALID_ARGUMENT');
});
