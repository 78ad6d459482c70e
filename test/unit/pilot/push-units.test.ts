import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer } from '../../../pilot/src/push/debounce.js';
import { recordAck, syncStatus, type ProxySyncState } from '../../../pilot/src/push/sync-status.js';
import { jsonVersion } from '../../../pilot/src/push/version.js';
import { Pusher } from '../../../pilot/src/push/pusher.js';
import { ConfigStore } from '../../../pilot/src/model/config-store.js';
import { createPilotMetrics } from '../../../pilot/src/metrics.js';
import { createLogger, subjects, type ConfigPush } from '#api';
import { bookinfoPush, parseResources, snapshotOf, BOOKINFO_GATEWAY, DESTINATION_RULE_ALL } from './bookinfo-model.js';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { ProxyRegistry, announcementProblem } from '../../../pilot/src/model/proxies.js';
import { pilotSettings } from '../../../pilot/src/settings.js';
import { sidecar } from './bookinfo-model.js';
import { waitFor } from '../../support/wait.js';
import type { ProxyConfig } from '#api';

test('a version is the hash of the config text; equal inputs generate equal text (restart, second replica)', () => {
  assert.equal(jsonVersion('{"a":[1,2]}'), jsonVersion('{"a":[1,2]}'));
  assert.notEqual(jsonVersion('{"a":[1,2]}'), jsonVersion('{"a":[2,1]}'));
  assert.match(jsonVersion('{}'), /^[0-9a-f]{16}$/);
  // Two push contexts built apart from the same inputs, as two pilots would.
  const one = bookinfoPush();
  const two = bookinfoPush();
  for (const p of Object.keys(one.proxies) as (keyof typeof one.proxies)[]) {
    assert.equal(JSON.stringify(generateProxyConfig(one.push, one.proxies[p])), JSON.stringify(generateProxyConfig(two.push, two.proxies[p])), p);
  }
});

test('a push carries the config text its version hashes, and an unchanged config is not sent again', () => {
  const sent: { subject: string; json: string }[] = [];
  const proxies = new ProxyRegistry({ expiryMs: 60_000 });
  const config = new ConfigStore();
  const registry = { name: 'none', snapshot: () => ({ services: [], instances: [] }), onChange: () => () => {}, start: async () => {}, stop: async () => {} };
  const pusher = new Pusher({
    proxies, registry, config, log: createLogger('test', 'silent'), metrics: createPilotMetrics(),
    publishJson: (subject, json) => sent.push({ subject, json }), debounce: { quietMs: 100_000, maxMs: 100_000 },
  });
  try {
    config.set(snapshotOf(parseResources(BOOKINFO_GATEWAY + '\n---\n' + DESTINATION_RULE_ALL)));
    proxies.upsert(sidecar('reviews', 'v1'));
    pusher.pushAll();
    assert.equal(sent.length, 1);
    const push = JSON.parse(sent[0]!.json) as ConfigPush;
    assert.equal(sent[0]!.subject, subjects.proxyConfig(push.proxyId));
    assert.equal(push.version, jsonVersion(JSON.stringify(push.config)), 'the version is the hash of the config as sent');
    assert.equal(push.config.node.id, 'reviews-v1-abcde.default');
    assert.match(push.nonce, /^[0-9a-f]{12}$/);
    assert.equal(pusher.state(push.proxyId)?.sent?.version, push.version);
    pusher.pushAll();
    assert.equal(sent.length, 1, 'same inputs, same version: nothing sent');
  } finally {
    pusher.stop();
  }
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
