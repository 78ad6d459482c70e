// Issue 5 point 1 (who announces): in process mode pilot registers endpoints from announcements,
// so a proxy must not be able to announce as another proxy, workload or service account. Each
// proxy's NATS user may publish only on its own scoped subjects (real nats-server refuses the
// rest), and pilot ignores, counts and logs once a message whose body names someone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from 'nats';
import {
  connectBus, createLogger, decode, encode, natsInboxPrefix, proxyScopedConfigSubject, proxyScopedSubject, subjects,
  type AnnounceReply, type Bus, type ConfigPush, type ConfigSnapshot, type ProxyAnnouncement, type ProxyBusScope,
} from '#api';
import { controlUsers, proxyUser, renderNatsConfig, type NatsUser } from '../../local/src/nats-auth.js';
import { startPilot, type Pilot } from '../../pilot/src/pilot.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { parseResources, REVIEWS_JASON_V2, sidecar, snapshotOf } from '../unit/pilot/bookinfo-model.js';

const log = createLogger('test', 'silent');
const secret = 'announce-secret';
const annA = { ...sidecar('productpage', 'v1'), proxyId: 'productpage-v1-aaaaa.default' };
const annB = { ...sidecar('reviews', 'v1'), proxyId: 'reviews-v1-bbbbb.default' };
const scopeOf = (a: ProxyAnnouncement): ProxyBusScope => ({ proxyId: a.proxyId, workload: a.workload.name, namespace: a.workload.namespace, serviceAccount: a.workload.serviceAccount });
const scopeA = scopeOf(annA);
const scopeB = scopeOf(annB);
const users = [...controlUsers(secret), proxyUser(secret, scopeA), proxyUser(secret, scopeB)];
const userOf = (name: string): NatsUser => users.find((u) => u.user === name)!;

let nats: NatsServer;
let pilotBus: Bus;
let galley: Bus;
let pilot: Pilot;
/** Proxy A's own credentials on a raw client, so every refusal by the server is visible. */
let a: NatsConnection;
let b: NatsConnection;
const serverRefusals: { operation: string; subject: string }[] = [];
const pushesToB: ConfigPush[] = [];

const loginRaw = async (u: NatsUser, onRefusal?: (r: { operation: string; subject: string }) => void) => {
  const nc = await connect({ servers: nats.url, user: u.user, pass: u.password, inboxPrefix: natsInboxPrefix(u.user), maxReconnectAttempts: 0 });
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) onRefusal?.({ operation: ctx.operation, subject: ctx.subject });
    }
  })();
  return nc;
};

const request = async (nc: NatsConnection, subject: string, body: unknown): Promise<AnnounceReply> =>
  decode<AnnounceReply>((await nc.request(subject, encode(body), { timeout: 5000 })).data);

const refusedByServer = (subject: string) =>
  waitFor(() => serverRefusals.some((r) => r.operation === 'publish' && r.subject === subject), { timeoutMs: 10_000, what: `publish to ${subject} refused (seen: ${JSON.stringify(serverRefusals)})` });

const refusedByPilot = (key: string, atLeast: number) =>
  waitFor(() => (pilot.bus.refusals[key] ?? 0) >= atLeast, { timeoutMs: 10_000, what: `pilot counts ${key} >= ${atLeast} (${JSON.stringify(pilot.bus.refusals)})` });

before(async () => {
  nats = await startNats({ config: renderNatsConfig(users) });
  pilotBus = await connectBus({ servers: nats.url, name: 'pilot', user: 'pilot', pass: userOf('pilot').password, log });
  galley = await connectBus({ servers: nats.url, name: 'galley', user: 'galley', pass: userOf('galley').password, log });
  const snapshot: ConfigSnapshot = snapshotOf(parseResources(REVIEWS_JASON_V2), 'cfg-1');
  galley.subscribe(subjects.configSnapshotGet, (m) => m.respond(snapshot));
  await galley.flush();
  pilot = await startPilot(
    { registries: ['announce'], dockerSocket: '', dockerNetwork: '', pushDebounceMs: 20, pushDebounceMaxMs: 500, proxyExpiryMs: 60_000 },
    { bus: pilotBus, log },
  );
  await pilot.bus.fetchSnapshot();
  a = await loginRaw(proxyUser(secret, scopeA), (r) => serverRefusals.push(r));
  b = await loginRaw(proxyUser(secret, scopeB));
  b.subscribe(proxyScopedConfigSubject(scopeB), { callback: (e, m) => { if (!e) pushesToB.push(decode<ConfigPush>(m.data)); } });
  await b.flush();
});

after(async () => {
  await a?.close();
  await b?.close();
  await pilot?.stop();
  for (const c of [pilotBus, galley]) await c?.close();
  await nats?.stop();
});

test('a proxy announces as itself on its own subject; pilot registers it and pushes on its scoped config subject', async () => {
  assert.deepEqual(await request(a, proxyScopedSubject('announce', scopeA), annA), { ok: true });
  assert.deepEqual(await request(b, proxyScopedSubject('announce', scopeB), annB), { ok: true });
  const recB = pilot.proxies.get(annB.proxyId);
  assert.equal(recB?.announcement.busScoped, true);
  assert.equal(recB?.announcement.workload.serviceAccount, 'bookinfo-reviews');
  await waitFor(() => pushesToB.length >= 1, { timeoutMs: 10_000, what: "B's config on its scoped subject" });
  assert.equal(pushesToB[0]!.proxyId, annB.proxyId);
  const instances = pilot.registry.snapshot().instances.filter((i) => i.proxyId === annB.proxyId);
  assert.ok(instances.length > 0 && instances.every((i) => i.serviceAccount === 'bookinfo-reviews'));
});

test("the server refuses a proxy's publish on another proxy's subjects and on the plain ones", async () => {
  const fake = { ...annB, inbound: { address: '10.9.9.9', port: 15006 } };
  for (const subject of [
    proxyScopedSubject('announce', scopeB), proxyScopedSubject('heartbeat', scopeB), proxyScopedSubject('depart', scopeB),
    // Own workload's scope with another proxy's id, and another service account for its own id.
    proxyScopedSubject('announce', { ...scopeA, proxyId: annB.proxyId }),
    proxyScopedSubject('announce', { ...scopeA, serviceAccount: 'bookinfo-reviews' }),
    subjects.proxyAnnounce, subjects.proxyHeartbeat, subjects.proxyDepart, subjects.proxyAck,
  ]) {
    a.publish(subject, encode(fake));
    await refusedByServer(subject);
  }
  await a.flush();
  assert.equal(pilot.proxies.get(annB.proxyId)?.announcement.inbound.address, annB.inbound.address, "B's endpoint untouched");
});

test("on its own subject a proxy cannot claim another proxy id, workload or service account: pilot ignores, counts and logs once", async () => {
  const own = proxyScopedSubject('announce', scopeA);
  const before = { ...pilot.bus.refusals };
  const asB = { ...annB, inbound: { address: '10.9.9.9', port: 15006 } };
  assert.deepEqual(await request(a, own, asB), { ok: false, error: 'announcement refused: subject-mismatch' });
  const asReviewsWorkload = { ...annA, workload: { ...annB.workload }, inbound: { address: '10.9.9.9', port: 15006 } };
  assert.deepEqual(await request(a, own, asReviewsWorkload), { ok: false, error: 'announcement refused: subject-mismatch' });
  const asOtherSa = { ...annA, workload: { ...annA.workload, serviceAccount: 'bookinfo-reviews' } };
  assert.deepEqual(await request(a, own, asOtherSa), { ok: false, error: 'announcement refused: subject-mismatch' });
  // Heartbeats, departures and ACKs in B's name on A's own subjects.
  a.publish(proxyScopedSubject('heartbeat', scopeA), encode(asB));
  a.publish(proxyScopedSubject('depart', scopeA), encode({ proxyId: annB.proxyId }));
  const sentToB = pilot.pusher.state(annB.proxyId)!.sent!;
  a.publish(proxyScopedSubject('ack', scopeA), encode({ proxyId: annB.proxyId, version: sentToB.version, nonce: sentToB.nonce, ok: false, error: 'forged NACK' }));
  await refusedByPilot('announce/subject-mismatch', (before['announce/subject-mismatch'] ?? 0) + 3);
  await refusedByPilot('heartbeat/subject-mismatch', (before['heartbeat/subject-mismatch'] ?? 0) + 1);
  await refusedByPilot('depart/subject-mismatch', (before['depart/subject-mismatch'] ?? 0) + 1);
  await refusedByPilot('ack/subject-mismatch', (before['ack/subject-mismatch'] ?? 0) + 1);
  // Nothing of it reached the registry or the sync state.
  const recA = pilot.proxies.get(annA.proxyId)!.announcement;
  assert.equal(recA.workload.name, 'productpage-v1');
  assert.equal(recA.workload.serviceAccount, 'bookinfo-productpage');
  const recB = pilot.proxies.get(annB.proxyId)!.announcement;
  assert.equal(recB.inbound.address, annB.inbound.address);
  assert.ok(!pilot.registry.snapshot().instances.some((i) => i.address === '10.9.9.9'), 'no forged endpoint');
  assert.equal(pilot.pusher.state(annB.proxyId)?.nack, undefined, 'no forged NACK recorded for B');
  const metrics = await pilot.metrics.registry.getSingleMetricAsString('pilot_proxy_messages_refused');
  assert.match(metrics, /pilot_proxy_messages_refused\{verb="announce",reason="subject-mismatch"\} [3-9]/);
});

test('a proxy id known on one scope cannot be taken over from another scope (per-workload users)', async () => {
  // A per-workload user (compose) may use any proxy token under its workload's scope; pilot
  // refuses an id that another workload's proxy already holds.
  const { proxyMessageRefusal } = await import('../../pilot/src/bus.js');
  const known = pilot.proxies.get(annB.proxyId)!.announcement;
  const fromA = proxyScopedSubject('announce', { ...scopeA, proxyId: annB.proxyId });
  assert.equal(proxyMessageRefusal(fromA, { proxyId: annB.proxyId, scope: { namespace: 'default', serviceAccount: 'bookinfo-productpage', workload: 'productpage-v1' } }, known), 'proxy-id-taken');
  assert.equal(proxyMessageRefusal(subjects.proxyAnnounce, { proxyId: annB.proxyId }, known), 'unscoped-for-scoped-proxy');
  assert.equal(proxyMessageRefusal(proxyScopedSubject('announce', scopeB), { proxyId: annB.proxyId, scope: scopeB }, known), undefined);
});
