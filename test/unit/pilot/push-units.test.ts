import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer } from '../../../pilot/src/push/debounce.js';
import { recordAck, syncStatus, type ProxySyncState } from '../../../pilot/src/push/sync-status.js';
import { canonicalJson, configVersion } from '../../../pilot/src/push/version.js';
import { ProxyRegistry, announcementProblem } from '../../../pilot/src/model/proxies.js';
import { pilotSettings } from '../../../pilot/src/settings.js';
import { sidecar } from './bookinfo-model.js';
import { waitFor } from '../../support/wait.js';
import type { ProxyConfig } from '#api';

test('versions are content hashes, independent of key order', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  assert.equal(configVersion({ a: 1, b: 2 }), configVersion({ b: 2, a: 1 }));
  assert.notEqual(configVersion({ a: [1, 2] }), configVersion({ a: [2, 1] }));
  assert.match(configVersion({}), /^[0-9a-f]{16}$/);
});

test('debounce fires once after quiet, and the cap bounds a steady trickle', async () => {
  let fired = 0;
  const d = new Debouncer(() => fired++, { quietMs: 30, maxMs: 1000 });
  d.trigger(); d.trigger(); d.trigger();
  assert.equal(fired, 0);
  await waitFor(() => fired === 1, { what: 'quiet fire' });
  let now = 0;
  let capped = 0;
  const c = new Debouncer(() => capped++, { quietMs: 1000, maxMs: 100, now: () => now });
  c.trigger();
  now = 60; c.trigger();
  assert.equal(capped, 0);
  now = 120; c.trigger(); // past the cap: fires at once
  assert.equal(capped, 1);
  assert.equal(c.pending, false);
  c.cancel();
});

test('sync status: NOT SENT, STALE, SYNCED, NACKED, and a newer push supersedes', () => {
  const s: ProxySyncState = {};
  assert.equal(syncStatus(s), 'NOT SENT');
  const config = {} as ProxyConfig;
  s.sent = { version: 'v1', nonce: 'n1', at: 0, config };
  assert.equal(syncStatus(s), 'STALE');
  recordAck(s, { proxyId: 'p', version: 'v1', nonce: 'n1', ok: true }, 1);
  assert.equal(syncStatus(s), 'SYNCED');
  s.sent = { version: 'v2', nonce: 'n2', at: 2, config };
  assert.equal(syncStatus(s), 'STALE');
  recordAck(s, { proxyId: 'p', version: 'v1', nonce: 'n2', ok: false, error: 'bad route' }, 3);
  assert.equal(syncStatus(s), 'NACKED');
  assert.equal(s.nack?.error, 'bad route');
  assert.equal(s.nack?.version, 'v2');
  s.sent = { version: 'v3', nonce: 'n3', at: 4, config };
  assert.equal(syncStatus(s), 'STALE');
  recordAck(s, { proxyId: 'p', version: 'v3', nonce: 'n3', ok: true }, 5);
  // A late ACK of an older push does not undo it.
  assert.equal(recordAck(s, { proxyId: 'p', version: 'v1', nonce: 'n1', ok: true }, 6), false);
  assert.equal(syncStatus(s), 'SYNCED');
});

test('proxies: add, refresh, update on change, expire when silent', () => {
  let now = 0;
  const reg = new ProxyRegistry({ expiryMs: 100, now: () => now });
  const events: string[] = [];
  reg.onChange((c) => events.push(`${c.type}:${c.proxyId}${c.type === 'removed' ? `:${c.reason}` : ''}`));
  const a = sidecar('reviews', 'v1');
  const b = sidecar('ratings', 'v1');
  assert.equal(reg.upsert(a), 'added');
  assert.equal(reg.upsert(b), 'added');
  now = 80;
  assert.equal(reg.upsert({ ...a, servingVersion: 'x' }), 'unchanged');
  assert.equal(reg.upsert({ ...a, workload: { ...a.workload, labels: { app: 'reviews', version: 'v9' } } }), 'updated');
  now = 150;
  assert.deepEqual(reg.expire(), [b.proxyId]);
  assert.equal(reg.remove(a.proxyId), true);
  assert.deepEqual(events, [`added:${a.proxyId}`, `added:${b.proxyId}`, `updated:${a.proxyId}`, `removed:${b.proxyId}:expired`, `removed:${a.proxyId}:departed`]);
});

test('announcement validation names what is wrong', () => {
  assert.equal(announcementProblem(sidecar('reviews', 'v1')), undefined);
  assert.match(announcementProblem({ proxyId: 'x', kind: 'sidecar' })!, /workload missing/);
  assert.match(announcementProblem(null)!, /not an object/);
});

test('settings: defaults and registry list parsing', () => {
  const s = pilotSettings.load({});
  assert.equal(s.port, 15014);
  assert.deepEqual(s.registries, ['announce']);
  assert.equal(s.pushDebounceMs, 100);
  assert.deepEqual(pilotSettings.load({ MESH_REGISTRIES: 'docker, announce' }).registries, ['docker', 'announce']);
  assert.throws(() => pilotSettings.load({ MESH_REGISTRIES: 'k8s' }), /MESH_REGISTRIES/);
});
