import { test } from 'node:test';
import assert from 'node:assert/strict';
import { natsInboxPrefix, subjects } from '#api';
import { planMesh } from '../../../local/src/plan.js';
import { componentPermissions, proxyNatsUser, proxyPermissions } from '../../../local/src/nats-auth.js';

const base = { root: '/repo', node: '/usr/bin/node', natsBin: 'nats-server', stateDir: '/tmp/s', configDir: 'compose/config', demo: true, logLevel: 'info', citadelSecret: 's3cret', portOffset: 0 };

test('the launcher logs every component and proxy in as its own NATS user', () => {
  const plan = planMesh(base);
  assert.ok(plan.natsConfig, 'nats config planned');
  const nats = plan.processes.find((p) => p.name === 'nats')!;
  assert.deepEqual(nats.args.slice(0, 2), ['-c', plan.natsConfig.file]);
  const loggedIn = plan.processes.filter((p) => p.env.MESH_NATS_URL);
  assert.ok(loggedIn.length >= 5);
  const usersSeen = new Set<string>();
  for (const p of loggedIn) {
    const user = p.env.MESH_NATS_USER;
    assert.ok(user && p.env.MESH_NATS_PASS, `${p.name} has credentials`);
    assert.ok(!usersSeen.has(user), `${p.name}: user ${user} shared`);
    usersSeen.add(user);
    assert.ok(plan.natsConfig.text.includes(JSON.stringify(p.env.MESH_NATS_PASS)), `${p.name}'s password is in the server config`);
    if (p.group === 'proxy' || p.group === 'gateway') assert.equal(user, proxyNatsUser(p.env.MESH_PROXY_ID));
  }
  // Stable across plans (restarts keep ids and passwords), different with another secret.
  assert.deepEqual(planMesh(base).natsConfig, plan.natsConfig);
  assert.notEqual(planMesh({ ...base, citadelSecret: 'other' }).natsConfig!.text, plan.natsConfig.text);
  assert.equal(planMesh({ ...base, natsAuth: false }).natsConfig, undefined);
});

test('a proxy may subscribe to its own config and inbox only, and answers nothing', () => {
  const id = 'reviews-v1-abcde.default';
  const p = proxyPermissions(id);
  assert.deepEqual(p.subscribe.filter((s) => s.startsWith('mesh.proxy.')), [subjects.proxyConfig(id)]);
  assert.ok(p.subscribe.includes(`${natsInboxPrefix(proxyNatsUser(id))}.>`));
  assert.ok(!p.subscribe.some((s) => s.includes('>') && !s.startsWith('_INBOX_proxy-')), 'no wide wildcard');
  for (const forbidden of [subjects.certSign, subjects.configSnapshotGet, subjects.proxyAnnounce]) assert.ok(!p.subscribe.includes(forbidden));
  for (const forbidden of ['mesh.proxy.*.config', subjects.configSnapshot, subjects.trustBundle, subjects.pilotHello, subjects.policyChanged]) assert.ok(!p.publish.includes(forbidden));
  assert.equal(p.allowResponses, false);
});

test('only galley publishes snapshots, only pilot config, only citadel bundles', () => {
  const pub = (c: Parameters<typeof componentPermissions>[0]) => componentPermissions(c).publish;
  assert.deepEqual((['citadel', 'galley', 'pilot', 'mixer'] as const).filter((c) => pub(c).includes(subjects.configSnapshot)), ['galley']);
  assert.deepEqual((['citadel', 'galley', 'pilot', 'mixer'] as const).filter((c) => pub(c).includes('mesh.proxy.*.config')), ['pilot']);
  assert.deepEqual((['citadel', 'galley', 'pilot', 'mixer'] as const).filter((c) => pub(c).includes(subjects.trustBundle)), ['citadel']);
});
