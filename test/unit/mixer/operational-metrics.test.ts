// Issue 6 point 7: each component's own operational metrics, as its /metrics exposes them:
// pilot's pushes, convergence time, NACKs and connected proxies; galley's files and
// validation errors; citadel's certificates issued and signing time; mixer's check cache,
// report batches and drops.
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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pusher } from '../../../pilot/src/push/pusher.js';
import { ConfigStore } from '../../../pilot/src/model/config-store.js';
import { ProxyRegistry } from '../../../pilot/src/model/proxies.js';
import { createPilotMetrics } from '../../../pilot/src/metrics.js';
import { Galley } from '../../../galley/src/galley.js';
import { createMetrics as createGalleyMetrics } from '../../../galley/src/metrics.js';
import { sidecar, parseResources, snapshotOf, BOOKINFO_GATEWAY, DESTINATION_RULE_ALL } from '../pilot/bookinfo-model.js';

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

test('pilot: pushes sent, connected proxies, convergence time from push to ACK, NACKs', async () => {
  let now = 1_000_000;
  const sent: { proxyId: string; version: string; nonce: string }[] = [];
  const metrics = createPilotMetrics();
  const proxies = new ProxyRegistry({ expiryMs: 60_000 });
  const config = new ConfigStore();
  const registry = { name: 'none', snapshot: () => ({ services: [], instances: [] }), onChange: () => () => {}, start: async () => {}, stop: async () => {} };
  const pusher = new Pusher({
    proxies, registry, config, log, metrics, now: () => now,
    publishJson: (_subject, json) => sent.push(JSON.parse(json) as { proxyId: string; version: string; nonce: string }),
    debounce: { quietMs: 100_000, maxMs: 100_000 },
  });
  try {
    config.set(snapshotOf(parseResources(`${BOOKINFO_GATEWAY}\n---\n${DESTINATION_RULE_ALL}`)));
    proxies.upsert(sidecar('reviews', 'v1'));
    proxies.upsert(sidecar('ratings', 'v1'));
    pusher.pushAll();
    assert.equal(sent.length, 2);
    now += 250; // the first proxy ACKs 250 ms after its push, the second NACKs
    pusher.ack({ proxyId: sent[0]!.proxyId, version: sent[0]!.version, nonce: sent[0]!.nonce, ok: true });
    pusher.ack({ proxyId: sent[1]!.proxyId, version: sent[1]!.version, nonce: sent[1]!.nonce, ok: false, error: 'bad route' });
    const text = await metrics.registry.metrics();
    assert.match(text, /^pilot_xds 2$/m, 'connected proxies');
    assert.match(text, /^pilot_xds_pushes\{type="sent"\} 2$/m);
    assert.match(text, /^pilot_proxy_convergence_time_count 1$/m);
    assert.match(text, /^pilot_proxy_convergence_time_sum 0.25$/m);
    assert.match(text, /^pilot_proxy_convergence_time_bucket\{le="0.1"\} 0$/m);
    assert.match(text, /^pilot_proxy_convergence_time_bucket\{le="0.5"\} 1$/m);
    assert.match(text, /^pilot_total_xds_rejects 1$/m);
  } finally {
    pusher.stop();
  }
});

test('galley: config files by state, file updates by result, current validation errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'galley-metrics-'));
  const metrics = createGalleyMetrics();
  writeFileSync(join(dir, 'good.yaml'), 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: { host: reviews }\n');
  writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: ratings\nspec:\n  hosts: [ratings]\n  http:\n  - route:\n    - destination: { host: ratings }\n      weight: 250\n');
  const galley = new Galley({ configDir: dir, debounceMs: 10, pollMs: 0, log, metrics });
  try {
    await galley.start();
    const text = await metrics.registry.metrics();
    assert.match(text, /^galley_config_files\{state="valid"\} 1$/m);
    assert.match(text, /^galley_config_files\{state="invalid"\} 1$/m);
    assert.match(text, /^galley_file_updates_total\{result="accepted"\} 1$/m);
    assert.match(text, /^galley_file_updates_total\{result="rejected"\} 1$/m, 'a file that fails validation is counted');
    assert.match(text, /^galley_validation_messages\{level="Error"\} [1-9]\d*$/m);
    assert.match(text, /^galley_snapshot_resources 1$/m);
  } finally {
    await galley.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
