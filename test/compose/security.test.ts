// Issue 5 point 7 in compose: the bus requires a login per component and per workload, with
// subject permissions, on the real compose file (compose/compose.yaml: nats-init writes
// nats.conf and each user's credentials onto that user's own volume at `up`). Starts only
// nats-init and nats under its own project name (no workload containers, so it never mixes
// into another mesh on the engine), reads credentials from the volumes as a sidecar would, and
// attacks: anonymous login, another workload's config, publishing config, announcing as another
// workload. Skips unless Docker answers and the image exists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from 'nats';
import { decode, encode, natsInboxPrefix, proxyScopedConfigSubject, proxyScopedSubject, subjects } from '#api';
import { freePort, waitFor } from '../support/wait.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const composeFile = join(repoRoot, 'compose', 'compose.yaml');
const image = process.env.MESH_IMAGE ?? 'compose-mesh:latest';
const project = `meshsec${randomBytes(3).toString('hex')}`;

function runs(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const compose = runs('docker', ['compose', 'version']) ? ['docker', 'compose'] : runs('docker-compose', ['version']) ? ['docker-compose'] : undefined;
const skip = !runs('docker', ['info'])
  ? 'no Docker engine answers `docker info`'
  : !runs('docker', ['image', 'inspect', image])
    ? `image ${image} is missing (npm run compose:offline builds it)`
    : !compose ? 'no docker compose' : false;

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('compose: NATS requires a login per component and workload', { skip, timeout: 300_000 }, () => {
  let env: NodeJS.ProcessEnv;
  let url = '';
  const dc = (...args: string[]) => exec(compose![0]!, [...compose!.slice(1), '-p', project, '-f', composeFile, ...args], env);
  /** Runs a shell command in a throwaway container with one credentials volume mounted. */
  const onVolume = (volume: string, script: string) =>
    exec('docker', ['run', '--rm', '--network', 'none', '-v', `${project}_${volume}:/c:ro`, image, 'sh', '-c', script], env);
  const creds = async (volume: string) => {
    const [user, pass] = (await onVolume(volume, 'cat /c/user /c/pass')).trim().split('\n');
    return { user: user!, pass: pass! };
  };
  const open: NatsConnection[] = [];

  /** Logs in with a volume's credentials; records every permission refusal the server sends. */
  async function login(volume: string) {
    const c = await creds(volume);
    const nc = await connect({ servers: url, user: c.user, pass: c.pass, inboxPrefix: natsInboxPrefix(c.user), maxReconnectAttempts: 0, reconnect: false });
    open.push(nc);
    const refusals: { operation: string; subject: string }[] = [];
    void (async () => {
      for await (const s of nc.status()) {
        const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
        if (s.type === 'error' && ctx) refusals.push({ operation: ctx.operation, subject: ctx.subject });
      }
    })();
    const refused = (operation: 'publish' | 'subscription', subject: string) =>
      waitFor(() => refusals.some((r) => r.operation === operation && r.subject === subject), { timeoutMs: 10_000, what: `${c.user}: ${operation} ${subject} refused (seen ${JSON.stringify(refusals)})` });
    return { nc, user: c.user, refusals, refused };
  }

  const sleepScope = { namespace: 'default', serviceAccount: 'sleep', workload: 'sleep', proxyId: 'sleep-0123456789ab.default' };
  const reviewsScope = { namespace: 'default', serviceAccount: 'bookinfo-reviews', workload: 'reviews-v1', proxyId: 'reviews-v1-0123456789ab.default' };

  before(async () => {
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    env = { ...process.env, MESH_IMAGE: image, MESH_NATS_HOST_PORT: String(port), MESH_PUBLISH_ADDR: '127.0.0.1' };
    await dc('up', '-d', '--no-build', 'nats');
    await waitFor(async () => {
      try {
        await connect({ servers: url, maxReconnectAttempts: 0, reconnect: false }).then((nc) => nc.close());
        return true;
      } catch (err) {
        // Refused for lack of credentials means the server is up.
        return /AUTHORIZATION/i.test(String((err as Error).message));
      }
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'nats answers' });
  });

  after(async () => {
    for (const nc of open) await nc.close().catch(() => {});
    await dc('down', '-v', '--remove-orphans', '-t', '3').catch((err: Error) => console.error(`compose down failed: ${err.message}`));
  });

  test('an anonymous client, an unknown user and a wrong password are refused', async () => {
    for (const c of [{}, { user: 'nobody', pass: 'x' }, { user: 'wl-default-sleep', pass: 'guess' }, { user: 'pilot', pass: '' }]) {
      await assert.rejects(connect({ servers: url, ...c, maxReconnectAttempts: 0, reconnect: false }), /AUTHORIZATION/i, JSON.stringify(c));
    }
  });

  test("credentials sit on each user's own volume, 0400, owned by the sidecar's uid (control: root); nats.conf 0600", async () => {
    assert.equal((await onVolume('nats-sleep', 'stat -c "%a %u" /c/user /c/pass')).trim(), '400 1337\n400 1337');
    assert.equal((await onVolume('nats-pilot', 'stat -c "%a %u" /c/pass')).trim(), '400 0');
    assert.equal((await onVolume('nats-conf', 'stat -c "%a" /c/nats.conf')).trim(), '600');
    const [sleep, reviews, pilot] = await Promise.all([creds('nats-sleep'), creds('nats-reviews-v1'), creds('nats-pilot')]);
    assert.equal(sleep.user, 'wl-default-sleep');
    assert.equal(reviews.user, 'wl-default-reviews-v1');
    assert.equal(new Set([sleep.pass, reviews.pass, pilot.pass]).size, 3, 'distinct passwords');
    assert.ok(sleep.pass.length >= 32, 'random password');
  });

  test("a sidecar's credentials get its own workload's config, never another workload's, and cannot publish config", async () => {
    const sleep = await login('nats-sleep');
    const reviews = await login('nats-reviews-v1');
    const pilot = await login('nats-pilot');
    const galley = await login('nats-galley');
    const got: { sleep: string[]; reviews: string[] } = { sleep: [], reviews: [] };
    sleep.nc.subscribe(proxyScopedConfigSubject(sleepScope), { callback: (e, m) => { if (!e) got.sleep.push(decode<{ from: string }>(m.data).from); } });
    reviews.nc.subscribe(proxyScopedConfigSubject(reviewsScope), { callback: (e, m) => { if (!e) got.reviews.push(decode<{ from: string }>(m.data).from); } });
    const stolen: string[] = [];
    for (const subject of [
      proxyScopedConfigSubject(reviewsScope), 'mesh.proxy.default.reviews-v1.*.config', 'mesh.proxy.*.*.*.config',
      subjects.proxyConfig(reviewsScope.proxyId), 'mesh.proxy.>', '>', `${natsInboxPrefix(reviews.user)}.>`,
    ]) {
      sleep.nc.subscribe(subject, { callback: (e, m) => { if (!e) stolen.push(m.subject); } });
      await sleep.refused('subscription', subject);
    }
    for (const subject of [proxyScopedConfigSubject(reviewsScope), proxyScopedConfigSubject(sleepScope), subjects.proxyConfig(reviewsScope.proxyId), subjects.configSnapshot, subjects.trustBundle, subjects.pilotHello]) {
      sleep.nc.publish(subject, encode({ from: 'sleep' }));
      await sleep.refused('publish', subject);
    }
    await Promise.all([sleep.nc.flush(), reviews.nc.flush()]);
    pilot.nc.publish(proxyScopedConfigSubject(reviewsScope), encode({ from: 'pilot' }));
    pilot.nc.publish(proxyScopedConfigSubject(sleepScope), encode({ from: 'pilot' }));
    await waitFor(() => got.sleep.length >= 1 && got.reviews.length >= 1, { timeoutMs: 10_000, what: 'pilot reaches both workloads' });
    await Promise.all([sleep.nc.flush(), reviews.nc.flush()]);
    assert.deepEqual(got, { sleep: ['pilot'], reviews: ['pilot'] }, 'only pilot configured anyone');
    assert.deepEqual(stolen, []);
    // Galley may publish snapshots, not proxy config.
    galley.nc.publish(proxyScopedConfigSubject(sleepScope), encode({ from: 'galley' }));
    await galley.refused('publish', proxyScopedConfigSubject(sleepScope));
  });

  test('a sidecar speaks to pilot only under its own workload and service account, and asks citadel', async () => {
    const sleep = await login('nats-sleep');
    const pilot = await login('nats-pilot');
    const citadel = await login('nats-citadel');
    const heard: string[] = [];
    pilot.nc.subscribe('mesh.pilot.announce.*.*.*.*', { callback: (e, m) => { if (!e) { heard.push(m.subject); m.respond(encode({ ok: true })); } } });
    citadel.nc.subscribe(subjects.certSign, { callback: (e, m) => { if (!e) m.respond(encode({ from: 'citadel' })); } });
    await Promise.all([pilot.nc.flush(), citadel.nc.flush()]);
    for (const subject of [
      proxyScopedSubject('announce', reviewsScope),
      proxyScopedSubject('announce', { ...sleepScope, serviceAccount: 'bookinfo-reviews' }),
      proxyScopedSubject('heartbeat', { ...reviewsScope, proxyId: sleepScope.proxyId }),
      subjects.proxyAnnounce,
    ]) {
      sleep.nc.publish(subject, encode({ proxyId: sleepScope.proxyId }));
      await sleep.refused('publish', subject);
    }
    // Its own scope, any replica's proxy id: allowed (replicas share the workload's identity).
    const own = proxyScopedSubject('announce', sleepScope);
    assert.deepEqual(decode(await sleep.nc.request(own, encode({ proxyId: sleepScope.proxyId }), { timeout: 10_000 }).then((m) => m.data)), { ok: true });
    assert.deepEqual(decode(await sleep.nc.request(subjects.certSign, encode({}), { timeout: 10_000 }).then((m) => m.data)), { from: 'citadel' });
    assert.deepEqual(heard, [own]);
    // And it cannot answer citadel's subject in citadel's place.
    sleep.nc.subscribe(subjects.certSign, { callback: () => {} });
    await sleep.refused('subscription', subjects.certSign);
  });

  test('a second `up` keeps every password (running services stay logged in)', async () => {
    const before = await Promise.all(['nats-sleep', 'nats-pilot', 'nats-reviews-v3'].map(creds));
    await dc('run', '--rm', '--no-deps', 'nats-init');
    const afterRun = await Promise.all(['nats-sleep', 'nats-pilot', 'nats-reviews-v3'].map(creds));
    assert.deepEqual(afterRun, before);
    const sleep = await login('nats-sleep');
    await sleep.nc.flush();
  });
});
