// pilot end to end on a real nats-server: a fake galley, simulated proxies (plain NATS
// clients), pushes with ACK/NACK, re-announcement, expiry, and a bus restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, createLogger, subjects, type Bus, type ConfigAck, type ConfigPush, type ConfigSnapshot, type PilotHello, type ProxyAnnouncement, type AnnounceReply } from '#api';
import { startPilot, type Pilot } from '../../pilot/src/pilot.js';
import type { SyncEntry } from '../../pilot/src/push/pusher.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { parseResources, REVIEWS_80_20, REVIEWS_JASON_V2, sidecar, snapshotOf } from '../unit/pilot/bookinfo-model.js';

const log = createLogger('test', 'silent');
let nats: NatsServer;
let pilot: Pilot;
let pilotBus: Bus;
let galley: Bus;
let proxyBus: Bus;
let base: string;
let snapshot: ConfigSnapshot = snapshotOf(parseResources(REVIEWS_JASON_V2), 'cfg-1');
const pushes = new Map<string, ConfigPush[]>();
const hellos: PilotHello[] = [];
const timers: NodeJS.Timeout[] = [];

async function json<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function syncEntry(proxyId: string): Promise<SyncEntry | undefined> {
  return (await json<SyncEntry[]>('/debug/syncz')).body.find((e) => e.proxy === proxyId);
}

function listen(proxyId: string) {
  pushes.set(proxyId, []);
  proxyBus.subscribe<ConfigPush>(subjects.proxyConfig(proxyId), (m) => { pushes.get(proxyId)!.push(m.data); });
}

async function announce(a: ProxyAnnouncement): Promise<AnnounceReply> {
  return proxyBus.request<AnnounceReply>(subjects.proxyAnnounce, a);
}

before(async () => {
  nats = await startNats();
  pilotBus = await connectBus({ servers: nats.url, name: 'pilot', log });
  galley = await connectBus({ servers: nats.url, name: 'galley', log });
  proxyBus = await connectBus({ servers: nats.url, name: 'proxies', log });
  proxyBus.subscribe<PilotHello>(subjects.pilotHello, (m) => { hellos.push(m.data); });
  await proxyBus.flush();
  pilot = await startPilot(
    { registries: ['announce'], dockerSocket: '', dockerNetwork: '', pushDebounceMs: 20, pushDebounceMaxMs: 500, proxyExpiryMs: 1500 },
    { bus: pilotBus, log },
  );
  await pilot.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = pilot.app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

after(async () => {
  for (const t of timers) clearInterval(t);
  await pilot?.stop();
  for (const b of [proxyBus, galley, pilotBus]) await b?.close();
  await nats?.stop();
});

test('pilot is not ready until galley answers, then retries bring the snapshot in', async () => {
  const notReady = await json<{ ready: boolean }>('/ready');
  assert.equal(notReady.status, 503);
  assert.equal(notReady.body.ready, false);
  await waitFor(() => hellos.length > 0, { what: 'PilotHello at start' });
  assert.equal(hellos[0]?.instance, pilot.instance);
  galley.subscribe(subjects.configSnapshotGet, (m) => m.respond(snapshot));
  await galley.flush();
  const ready = await waitFor(async () => { const r = await json<{ ready: boolean; version: string }>('/ready'); return r.status === 200 && r.body; }, { what: 'ready', timeoutMs: 8000 });
  assert.equal(ready.version, 'cfg-1');
  const configz = await json<{ version: string; resources: string[] }>('/debug/configz');
  assert.deepEqual(configz.body.resources, ['VirtualService/default/reviews']);
});

const reviews = sidecar('reviews', 'v1', { ip: '127.0.0.1' });
const productpage = { ...sidecar('productpage', 'v1', { ip: '127.0.0.1' }), inbound: { address: '127.0.0.1', port: 25006 } };

test('an announcing proxy gets its config at once; its ACK makes it SYNCED', async () => {
  listen(productpage.proxyId);
  listen(reviews.proxyId);
  await proxyBus.flush();
  assert.deepEqual(await announce(productpage), { ok: true });
  const first = await waitFor(() => pushes.get(productpage.proxyId)![0], { what: 'first push' });
  assert.equal(first.proxyId, productpage.proxyId);
  assert.equal(first.config.node.workload, 'productpage-v1');
  assert.match(first.version, /^[0-9a-f]{16}$/);
  assert.equal((await syncEntry(productpage.proxyId))?.status, 'STALE');
  proxyBus.publish(subjects.proxyAck, { proxyId: productpage.proxyId, version: first.version, nonce: first.nonce, ok: true } satisfies ConfigAck);
  const synced = await waitFor(async () => { const e = await syncEntry(productpage.proxyId); return e?.status === 'SYNCED' && e; }, { what: 'SYNCED' });
  assert.equal(synced.ackedVersion, first.version);
  assert.equal(synced.inbound, '127.0.0.1:25006');
  assert.equal(synced.outbound, '127.0.0.1:15001');
  assert.deepEqual(synced.labels, { app: 'productpage', version: 'v1' });
  const dump = await json<{ version: string; config: { node: { id: string } } }>(`/debug/config_dump?proxyID=${productpage.proxyId}`);
  assert.equal(dump.body.version, first.version);
  assert.equal(dump.body.config.node.id, productpage.proxyId);
  assert.equal((await json('/debug/config_dump?proxyID=nobody')).status, 404);

  // reviews registers: productpage's endpoints change, so it gets a (debounced) new push.
  await announce(reviews);
  const second = await waitFor(() => pushes.get(productpage.proxyId)![1], { what: 'push after reviews registered' });
  const eps = second.config.endpoints.find((e) => e.cluster === 'outbound|9080||reviews.default.svc.cluster.local');
  assert.deepEqual(eps?.endpoints.map((e) => `${e.address}:${e.port}`), ['127.0.0.1:15006']);
  const registryz = await json<{ instances: { workload: string }[] }>('/debug/registryz');
  assert.deepEqual(registryz.body.instances.map((i) => i.workload).sort(), ['productpage-v1', 'reviews-v1']);
  for (const id of [productpage.proxyId, reviews.proxyId]) {
    const last = pushes.get(id)!.at(-1)!;
    proxyBus.publish(subjects.proxyAck, { proxyId: id, version: last.version, nonce: last.nonce, ok: true } satisfies ConfigAck);
  }
  await waitFor(async () => (await syncEntry(reviews.proxyId))?.status === 'SYNCED', { what: 'reviews SYNCED' });
  // Keep both alive through the expiry test below.
  timers.push(setInterval(() => { proxyBus.publish(subjects.proxyHeartbeat, productpage); proxyBus.publish(subjects.proxyHeartbeat, reviews); }, 200));
});

test('a new snapshot brings a new push; a NACK leaves the proxy NACKED with the error', async () => {
  const before = pushes.get(productpage.proxyId)!.length;
  snapshot = snapshotOf(parseResources(REVIEWS_80_20), 'cfg-2');
  galley.publish(subjects.configSnapshot, snapshot);
  const push = await waitFor(() => pushes.get(productpage.proxyId)![before], { what: 'push after new snapshot' });
  const vh = push.config.routes.find((r) => r.name === '9080')!.virtualHosts.find((v) => v.name.startsWith('reviews.'))!;
  const action = vh.routes[0]!.action;
  assert.deepEqual(action.kind === 'route' && action.clusters.map((c) => c.weight), [80, 20]);
  proxyBus.publish(subjects.proxyAck, { proxyId: productpage.proxyId, version: push.version, nonce: push.nonce, ok: false, error: 'route reviews: weights do not add up' } satisfies ConfigAck);
  const nacked = await waitFor(async () => { const e = await syncEntry(productpage.proxyId); return e?.status === 'NACKED' && e; }, { what: 'NACKED' });
  assert.equal(nacked.error, 'route reviews: weights do not add up');
  assert.equal(nacked.version, push.version);
  assert.notEqual(nacked.ackedVersion, push.version);
  // A bad snapshot is refused; the last good one keeps serving.
  galley.publish(subjects.configSnapshot, { version: 'broken', resources: 'nope' });
  await pilotBus.flush();
  await galley.flush();
  assert.equal((await json<{ version: string }>('/debug/configz')).body.version, 'cfg-2');
  const status = await json<{ nacks: number; configsSent: number }>('/debug/push_status');
  assert.ok(status.body.nacks >= 1);
});

test('a proxy that reconnects gets its config again; one already serving the version is SYNCED without a push', async () => {
  const list = pushes.get(reviews.proxyId)!;
  const before = list.length;
  // Restarted: serves nothing.
  await announce({ ...reviews, startedAt: new Date().toISOString() });
  const again = await waitFor(() => list[before], { what: 're-push after restart' });
  proxyBus.publish(subjects.proxyAck, { proxyId: reviews.proxyId, version: again.version, nonce: again.nonce, ok: true } satisfies ConfigAck);
  await waitFor(async () => (await syncEntry(reviews.proxyId))?.status === 'SYNCED', { what: 'SYNCED after re-push' });
  // Answering a PilotHello while serving the current version: nothing to send.
  const skippedBefore = pilot.pusher.counters.skippedUnchanged;
  await announce({ ...reviews, startedAt: new Date().toISOString(), servingVersion: again.version });
  await waitFor(() => pilot.pusher.counters.skippedUnchanged > skippedBefore, { what: 'announce handled' });
  assert.equal(list.length, before + 1);
  assert.equal((await syncEntry(reviews.proxyId))?.status, 'SYNCED');
});

test('a proxy that stops heartbeating expires; a departing one leaves at once', async () => {
  const silent = { ...sidecar('details', 'v1', { ip: '127.0.0.1' }), inbound: { address: '127.0.0.1', port: 35006 } };
  const leaving = { ...sidecar('ratings', 'v1', { ip: '127.0.0.1' }), inbound: { address: '127.0.0.1', port: 45006 } };
  await announce(silent);
  await announce(leaving);
  await waitFor(async () => (await syncEntry(silent.proxyId)) && (await syncEntry(leaving.proxyId)), { what: 'both known' });
  proxyBus.publish(subjects.proxyDepart, { proxyId: leaving.proxyId });
  await waitFor(async () => !(await syncEntry(leaving.proxyId)), { what: 'departure' });
  assert.ok(await syncEntry(silent.proxyId), 'the silent one is still within its lease');
  await waitFor(async () => !(await syncEntry(silent.proxyId)), { what: 'expiry', timeoutMs: 5000 });
  const registryz = await json<{ instances: { workload: string }[] }>('/debug/registryz');
  assert.ok(!registryz.body.instances.some((i) => i.workload === 'details-v1' || i.workload === 'ratings-v1'));
  // Heartbeating proxies survived.
  assert.ok(await syncEntry(productpage.proxyId));
  assert.ok(await syncEntry(reviews.proxyId));
});

test('after a bus restart pilot asks for the snapshot again and says hello again', async () => {
  // Which client reconnects first is a race, so a subscriber may miss the hello; watch
  // what pilot publishes instead.
  const published: string[] = [];
  const publish = pilotBus.publish.bind(pilotBus);
  pilotBus.publish = (subject, msg) => { published.push(subject); publish(subject, msg); };
  let asked = 0;
  galley.subscribe(subjects.configSnapshotGet, () => { asked++; });
  await galley.flush();
  await nats.restart();
  await waitFor(() => published.includes(subjects.pilotHello), { what: 'PilotHello after reconnect', timeoutMs: 10_000 });
  // pilot keeps asking until galley (itself reconnecting) answers.
  await waitFor(() => asked > 0, { what: 'snapshot requested again', timeoutMs: 10_000 });
  assert.equal((await json<{ ready: boolean }>('/ready')).status, 200);
});
