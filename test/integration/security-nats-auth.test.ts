// Issue 5 point 7 and 9: the bus requires a login per component and proxy, and every publish or
// subscribe outside a user's permissions is refused by a real nats-server (the launcher's config).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import { connectBus, createLogger, encode, decode, natsInboxPrefix, proxyScopedConfigSubject, subjects, type Bus, type ProxyBusScope } from '#api';
import { controlUsers, proxyUser, renderNatsConfig, type NatsUser } from '../../local/src/nats-auth.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';

const log = createLogger('test', 'silent');
const secret = 'test-secret';
const scopeA: ProxyBusScope = { proxyId: 'productpage-v1-aaaaa.default', workload: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage' };
const scopeB: ProxyBusScope = { proxyId: 'reviews-v1-bbbbb.default', workload: 'reviews-v1', namespace: 'default', serviceAccount: 'bookinfo-reviews' };
/** Where each proxy's config goes once it logged in (its scoped subject). */
const configA = proxyScopedConfigSubject(scopeA);
const configB = proxyScopedConfigSubject(scopeB);
const users = [...controlUsers(secret), proxyUser(secret, scopeA), proxyUser(secret, scopeB)];
const userOf = (name: string): NatsUser => users.find((u) => u.user === name)!;
const userA = proxyUser(secret, scopeA);

let nats: NatsServer;
let pilot: Bus;
let galley: Bus;
let citadel: Bus;
let b: Bus;
/** The attacker: proxy A's own credentials, raw client so every refusal is visible. */
let a: NatsConnection;
const refusals: { operation: string; subject: string }[] = [];

before(async () => {
  nats = await startNats({ config: renderNatsConfig(users) });
  const login = (u: NatsUser, name: string) => connectBus({ servers: nats.url, name, user: u.user, pass: u.password, log });
  pilot = await login(userOf('pilot'), 'pilot');
  galley = await login(userOf('galley'), 'galley');
  citadel = await login(userOf('citadel'), 'citadel');
  b = await login(proxyUser(secret, scopeB), scopeB.proxyId);
  citadel.subscribe(subjects.certSign, (m) => m.respond({ from: 'citadel' }));
  a = await connect({ servers: nats.url, user: userA.user, pass: userA.password, inboxPrefix: natsInboxPrefix(userA.user), maxReconnectAttempts: 0 });
  void (async () => {
    for await (const s of a.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) refusals.push({ operation: ctx.operation, subject: ctx.subject });
    }
  })();
  await Promise.all([pilot.flush(), galley.flush(), citadel.flush(), b.flush()]);
});

after(async () => {
  await a?.close();
  for (const c of [pilot, galley, citadel, b]) await c?.close();
  await nats?.stop();
});

const refused = (operation: 'publish' | 'subscription', subject: string) =>
  waitFor(() => refusals.some((r) => r.operation === operation && r.subject === subject), { timeoutMs: 10_000, what: `${operation} to ${subject} refused (seen: ${JSON.stringify(refusals)})` });

test('no login, an unknown user and a wrong password are refused', async () => {
  for (const creds of [{}, { user: 'nobody', pass: 'x' }, { user: 'pilot', pass: 'not-the-password' }]) {
    await assert.rejects(connect({ servers: nats.url, ...creds, maxReconnectAttempts: 0, reconnect: false }), /AUTHORIZATION_VIOLATION|Authorization Violation/i, JSON.stringify(creds));
  }
});

test('the allowed flows work: pilot pushes a proxy its config, a proxy asks citadel to sign', async () => {
  const got: unknown[] = [];
  const sub = a.subscribe(configA, { callback: (_e, m) => got.push(decode(m.data)) });
  await a.flush();
  pilot.publish(configA, { n: 1 });
  await waitFor(() => got.length === 1, { timeoutMs: 10_000, what: 'config push to A' });
  sub.unsubscribe();
  // The reply comes back on A's own inbox prefix, which only A may subscribe to.
  const reply = decode<{ from: string }>((await a.request(subjects.certSign, encode({}), { timeout: 5000 })).data);
  assert.equal(reply.from, 'citadel');
  assert.deepEqual(await b.request(subjects.certSign, {}, 5000), { from: 'citadel' });
});

test("a proxy cannot receive another proxy's config, nor every proxy's, nor another's replies", async () => {
  const stolen: string[] = [];
  for (const subject of [configB, subjects.proxyConfig(scopeB.proxyId), 'mesh.proxy.*.config', 'mesh.proxy.default.reviews-v1.*.config', 'mesh.proxy.>', '>', `${natsInboxPrefix(proxyUser(secret, scopeB).user)}.>`, '_INBOX.>']) {
    a.subscribe(subject, { callback: (e, m) => { if (!e) stolen.push(m.subject); } });
    await refused('subscription', subject);
  }
  const toB: unknown[] = [];
  b.subscribe(configB, (m) => { toB.push(m.data); });
  await b.flush();
  pilot.publish(configB, { secret: 'B only' });
  await b.request(subjects.certSign, {}, 5000);
  await waitFor(() => toB.length === 1, { timeoutMs: 10_000, what: 'B gets its config' });
  await a.flush();
  assert.deepEqual(stolen, []);
});

test('a proxy cannot publish config, snapshots, trust bundles or pilot hellos', async () => {
  const toB: { from: string }[] = [];
  b.subscribe<{ from: string }>(configB, (m) => { toB.push(m.data); });
  const snapshots: { from: string }[] = [];
  pilot.subscribe<{ from: string }>(subjects.configSnapshot, (m) => { snapshots.push(m.data); });
  await Promise.all([b.flush(), pilot.flush()]);
  for (const subject of [configB, configA, subjects.configSnapshot, subjects.trustBundle, subjects.pilotHello]) {
    a.publish(subject, encode({ from: 'attacker' }));
    await refused('publish', subject);
  }
  // The server has handled A's publishes (refused) before these: order shows nothing got through.
  await a.flush();
  pilot.publish(configB, { from: 'pilot' });
  galley.publish(subjects.configSnapshot, { from: 'galley' });
  await waitFor(() => toB.length >= 1 && snapshots.length >= 1, { timeoutMs: 10_000, what: 'legitimate messages' });
  assert.deepEqual(toB.map((m) => m.from), ['pilot']);
  assert.deepEqual(snapshots.map((m) => m.from), ['galley']);
});

test("a proxy cannot answer citadel's sign subject or serve snapshots", async () => {
  let answered = 0;
  for (const subject of [subjects.certSign, subjects.configSnapshotGet, subjects.proxyAnnounce]) {
    a.subscribe(subject, { callback: (e, m) => { if (!e) { answered++; m.respond(encode({ from: 'attacker' })); } } });
    await refused('subscription', subject);
  }
  for (let i = 0; i < 5; i++) assert.deepEqual(await b.request(subjects.certSign, {}, 5000), { from: 'citadel' });
  assert.equal(answered, 0);
});

test('passwords are distinct per user and never derive from the user name alone', () => {
  const pw = users.map((u) => u.password);
  assert.equal(new Set(pw).size, pw.length);
  assert.notEqual(controlUsers('other-secret')[0].password, controlUsers(secret)[0].password);
});
