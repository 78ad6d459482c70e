import { test } from 'node:test';
import assert from 'node:assert/strict';
import { natsInboxPrefix, subjects } from '#api';
import { planMesh } from '../../../local/src/plan.js';
import { componentPermissions, composeUsers, parseWorkloadList, proxyNatsUser, proxyPermissions, workloadNatsUser, workloadPermissions } from '../../../local/src/nats-auth.js';

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
  const p = proxyPermissions({ proxyId: id, workload: 'reviews-v1', namespace: 'default', serviceAccount: 'bookinfo-reviews' });
  assert.deepEqual(p.subscribe.filter((s) => s.startsWith('mesh.proxy.')), ['mesh.proxy.default.reviews-v1.reviews-v1-abcde_default.config']);
  // It speaks to pilot only on its own scoped subjects: the subject proves who it is.
  assert.deepEqual(p.publish.filter((s) => s.startsWith('mesh.pilot.')), [
    'mesh.pilot.announce.default.bookinfo-reviews.reviews-v1.reviews-v1-abcde_default',
    'mesh.pilot.heartbeat.default.bookinfo-reviews.reviews-v1.reviews-v1-abcde_default',
    'mesh.pilot.depart.default.bookinfo-reviews.reviews-v1.reviews-v1-abcde_default',
    'mesh.pilot.ack.default.bookinfo-reviews.reviews-v1.reviews-v1-abcde_default',
  ]);
  assert.ok(!p.publish.some((s) => s.includes('*') || s.includes('>')), 'no wildcard publish');
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

test("compose: one user per workload, allowed only its workload's scoped subjects; the list parses or names the bad entry", () => {
  const [w] = parseWorkloadList(' default/bookinfo-reviews/reviews-v1 ,\n');
  assert.deepEqual(w, { namespace: 'default', serviceAccount: 'bookinfo-reviews', workload: 'reviews-v1' });
  assert.throws(() => parseWorkloadList('default/reviews-v1'), /default\/reviews-v1.*namespace\/serviceAccount\/workload/);
  assert.equal(workloadNatsUser(w!), 'wl-default-reviews-v1');
  const p = workloadPermissions(w!);
  assert.deepEqual(p.subscribe.filter((s) => s.startsWith('mesh.proxy.')), ['mesh.proxy.default.reviews-v1.*.config']);
  assert.deepEqual(p.publish.filter((s) => s.startsWith('mesh.pilot.')), [
    'mesh.pilot.announce.default.bookinfo-reviews.reviews-v1.*', 'mesh.pilot.heartbeat.default.bookinfo-reviews.reviews-v1.*',
    'mesh.pilot.depart.default.bookinfo-reviews.reviews-v1.*', 'mesh.pilot.ack.default.bookinfo-reviews.reviews-v1.*',
  ]);
  assert.ok(p.subscribe.includes(`${natsInboxPrefix('wl-default-reviews-v1')}.>`));
  assert.equal(p.allowResponses, false);
  const users = composeUsers([w!], (u) => `pw-${u}`);
  assert.deepEqual(users.map((u) => u.user), ['citadel', 'galley', 'pilot', 'mixer', 'wl-default-reviews-v1']);
  assert.equal(users.find((u) => u.user === 'pilot')!.permissions.publish.includes('mesh.proxy.*.*.*.config'), true, 'pilot configures scoped proxies');
});
