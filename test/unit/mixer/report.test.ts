import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from '#api';
import { ReportIngest, checkBatch } from '../../../mixer/src/report.js';
import { CheckEngine } from '../../../mixer/src/check.js';
import { PrometheusAdapter } from '../../../mixer/src/adapters/prometheus.js';
import type { Adapter } from '../../../mixer/src/adapters/adapter.js';
import { record } from './fixtures.js';
import { newRuntime, resourcesFromYaml } from './fixtures.js';

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

test('checks allow with a validity while no rule applies; a denier rule denies; junk is INVALID_ARGUMENT', async () => {
  const registry = new Registry();
  const { runtime } = newRuntime({ registry });
  const engine = new CheckEngine({ registry, runtime, log });
  const req = { proxyId: 'p', source: record().source, destination: record().destination };
  const allowed = await engine.check(req);
  assert.equal(allowed.allowed, true);
  assert.equal(allowed.validDurationMs, 60_000);
  assert.equal(allowed.validUseCount, 10_000);
  runtime.apply(resourcesFromYaml(`
apiVersion: config.istio.io/v1alpha2
kind: denier
metadata: { name: nov3 }
spec: { status: { code: 7, message: no } }
---
apiVersion: config.istio.io/v1alpha2
kind: checknothing
metadata: { name: req }
spec: {}
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: { name: deny-v3 }
spec:
  match: destination.labels["version"] == "v3"
  actions: [ { handler: nov3.denier, instances: [ req.checknothing ] } ]
`), 'v1');
  const denied = await engine.check(req);
  assert.equal(denied.allowed, false);
  assert.equal(denied.rule, 'rule/default/deny-v3');
  assert.equal(denied.message, 'PERMISSION_DENIED:nov3.denier.default:no');
  assert.equal((await engine.check('junk')).code, 'INVALID_ARGUMENT');
});
