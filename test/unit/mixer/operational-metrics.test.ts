// Issue 6 point 7: each component's own operational metrics. Pilot's and galley's are tested
// with them; here citadel's signing time, and mixer's check, cache and drop counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { bootstrapToken, createLogger } from '#api';
import { tokenAttestor } from '../../../citadel/src/attest.js';
import { Inventory } from '../../../citadel/src/inventory.js';
import { createIssuer } from '../../../citadel/src/issue.js';
import { createMetrics } from '../../../citadel/src/metrics.js';
import { buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { ReportIngest } from '../../../mixer/src/report.js';
import { tempDir, testCa } from '../citadel/helpers.js';
import { record } from './fixtures.js';

const log = createLogger('t', 'silent');

test('citadel: certificates issued and signing time', async () => {
  const tmp = tempDir('citadel-metrics-');
  try {
    const metrics = createMetrics();
    const issue = createIssuer({ ca: await testCa(tmp.dir), attestor: tokenAttestor('s'), inventory: new Inventory(10), metrics, log, ttlDefaultSeconds: 3600, ttlMaxSeconds: 86_400 });
    const csrPem = buildCsr(await generateWorkloadKey(), 'x', 'cluster.local');
    const r = await issue({ proxyId: 'a-1.default', csrPem, namespace: 'default', serviceAccount: 'sa', token: bootstrapToken('s', 'default', 'sa') });
    assert.equal(r.ok, true);
    const text = await metrics.registry.metrics();
    assert.match(text, /^citadel_server_success_cert_issuance_count 1$/m);
    assert.match(text, /^citadel_server_csr_sign_duration_seconds_count 1$/m);
  } finally {
    tmp.cleanup();
  }
});

test('mixer: sidecars\' check cache hits and misses, fail-policy decisions and dropped records', async () => {
  const registry = new Registry();
  const ingest = new ReportIngest({ adapters: [], registry, log });
  ingest.ingest({ proxyId: 'p', records: [record()], dropped: 3, checkCache: { hits: 40, misses: 2, failOpen: 0, failClosed: 1 } }, 'bus');
  ingest.ingest({ proxyId: 'q', records: [], dropped: 0, checkCache: { hits: 10, misses: 1, failOpen: 2, failClosed: 0 } }, 'bus');
  const text = await registry.metrics();
  assert.match(text, /^mixer_check_cache_hits_total 50$/m);
  assert.match(text, /^mixer_check_cache_misses_total 3$/m);
  assert.match(text, /^mixer_check_fail_policy_total\{policy="closed"\} 1$/m);
  assert.match(text, /^mixer_check_fail_policy_total\{policy="open"\} 2$/m);
  assert.match(text, /^mixer_report_dropped_total 3$/m);
  assert.match(text, /^mixer_report_batches_total\{transport="bus"\} 2$/m);
});
