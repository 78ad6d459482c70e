// galley end to end in-process: a real folder, a real nats-server, real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, createLogger, subjects, type Bus, type ConfigSnapshot } from '#api';
import { Galley } from '../../galley/src/galley.js';
import { buildGalleyApi } from '../../galley/src/api.js';
import { createMetrics } from '../../galley/src/metrics.js';
import type { StatusReport } from '../../galley/src/store.js';
import { startNats } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { dr, vs } from '../unit/galley/fixtures.js';

const log = createLogger('galley-test', 'silent');


async function startGalley(configDir: string, stateDir: string, natsUrl: string) {
  const metrics = createMetrics();
  const galley = new Galley({ configDir, stateDir, debounceMs: 20, pollMs: 0, log, metrics });
  await galley.start();
  const app = buildGalleyApi({ galley, registry: metrics.registry });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const bus = await connectBus({ servers: natsUrl, name: 'galley', log });
  galley.attachBus(bus);
  return {
    galley, base,
    async status(): Promise<StatusReport> { return (await fetch(`${base}/status`)).json() as Promise<StatusReport>; },
    async snapshot(): Promise<ConfigSnapshot> { return (await fetch(`${base}/snapshot`)).json() as Promise<ConfigSnapshot>; },
    async close() { await galley.close(); await app.close(); await bus.close(); },
  };
}

test('galley watches the folder, publishes snapshots, keeps last good versions and survives restarts', async (t) => {
  const nats = await startNats();
  const root = mkdtempSync(join(tmpdir(), 'galley-it-'));
  const configDir = join(root, 'config');
  const stateDir = join(root, 'state');
  mkdirSync(join(configDir, 'reviews'), { recursive: true });
  writeFileSync(join(configDir, 'ratings.yaml'), dr('ratings', ['v1']));
  let client: Bus | undefined;
  let g: Awaited<ReturnType<typeof startGalley>> | undefined;
  t.after(async () => {
    await g?.close();
    await client?.close();
    await nats.stop();
    rmSync(root, { recursive: true, force: true });
  });

  client = await connectBus({ servers: nats.url, name: 'test-client', log });
  const published: ConfigSnapshot[] = [];
  client.subscribe<ConfigSnapshot>(subjects.configSnapshot, (m) => { published.push(m.data); });
  await client.flush();

  g = await startGalley(configDir, stateDir, nats.url);
  const ready = await fetch(`${g.base}/ready`);
  assert.equal(ready.status, 200);
  // The initial scan is published at once, and late joiners can ask for it.
  await waitFor(() => published.some((s) => s.resources.length === 1), { what: 'initial snapshot' });
  const asked = await client.request<ConfigSnapshot>(subjects.configSnapshotGet, {});
  assert.equal(asked.version, g.galley.snapshot().version);
  assert.deepEqual(asked.resources.map((r) => r.metadata.name), ['ratings']);

  // 1. A new file (in a subfolder) -> a snapshot with its resources.
  writeFileSync(join(configDir, 'reviews', 'reviews.yaml'), `${dr('reviews', ['v1', 'v2'])}---\n${vs('reviews', 'v1')}`);
  const withReviews = await waitFor(() => published.find((s) => s.resources.some((r) => r.kind === 'VirtualService')), { what: 'snapshot with reviews' });
  assert.deepEqual(withReviews.resources.map((r) => `${r.kind}/${r.metadata.name}`),
    ['DestinationRule/ratings', 'DestinationRule/reviews', 'VirtualService/reviews']);
  const vsResource = withReviews.resources.find((r) => r.kind === 'VirtualService')!;
  assert.deepEqual(vsResource.source, { file: 'reviews/reviews.yaml', line: 13 });

  // 2. A broken save -> status names file:line, the snapshot keeps the last good version.
  const countBefore = published.length;
  writeFileSync(join(configDir, 'reviews', 'reviews.yaml'), `${dr('reviews', ['v1', 'v2'])}---\n${vs('reviews', 'v2').replace('  http:', '  http: [')}`);
  const broken = await waitFor(async () => {
    const s = await g!.status();
    const f = s.files.find((x) => x.file === 'reviews/reviews.yaml');
    return f?.state === 'invalid' ? f : undefined;
  }, { what: 'reviews.yaml invalid' });
  const err = broken.messages.find((m) => m.level === 'Error')!;
  assert.equal(err.code, 'MSH0001');
  assert.equal(err.file, 'reviews/reviews.yaml');
  assert.ok(err.line! >= 19, `line ${err.line}`);
  assert.equal(broken.servingLastGood, true);
  assert.equal((await g.snapshot()).version, withReviews.version);
  assert.equal(published.length, countBefore, 'nothing new published for a rejected file');

  // 3. An atomic save (write a temp file, rename it over the real one).
  const tmp = join(configDir, 'reviews', '.reviews.yaml.swp');
  writeFileSync(tmp, `${dr('reviews', ['v1', 'v2'])}---\n${vs('reviews', 'v2')}`);
  renameSync(tmp, join(configDir, 'reviews', 'reviews.yaml'));
  const toV2 = await waitFor(() => published.find((s) => JSON.stringify(s.resources).includes('"subset":"v2"')), { what: 'snapshot routing to v2' });
  assert.notEqual(toV2.version, withReviews.version);
  const afterSave = await g.status();
  assert.equal(afterSave.files.find((f) => f.file === 'reviews/reviews.yaml')!.state, 'valid');
  assert.ok(!afterSave.files.some((f) => f.file.includes('.swp')), 'temp files are ignored');

  // 4. A delete: its resources leave the snapshot.
  unlinkSync(join(configDir, 'ratings.yaml'));
  const withoutRatings = await waitFor(() => published.find((s) => s.version !== toV2.version && !s.resources.some((r) => r.metadata.name === 'ratings')),
    { what: 'snapshot without ratings' });
  assert.equal(withoutRatings.resources.length, 2);
  assert.equal((await g.status()).files.find((f) => f.file === 'ratings.yaml')!.state, 'deleted');

  // Dry-run validation changes nothing.
  const dry = await fetch(`${g.base}/validate?file=canary.yaml`, { method: 'POST', body: vs('reviews', 'v7'), headers: { 'content-type': 'application/yaml' } });
  const dryBody = await dry.json() as { valid: boolean; messages: { code: string; file: string }[] };
  assert.equal(dry.status, 200);
  assert.deepEqual(dryBody.messages.map((m) => m.code), ['IST0101', 'MSH0006']);
  assert.equal((await g.snapshot()).version, withoutRatings.version);

  // 5. The bus restarts: galley is still asked and answers once it is back.
  await nats.restart();
  const again = await waitFor(async () => {
    try { return await client!.request<ConfigSnapshot>(subjects.configSnapshotGet, {}, 500); } catch { return undefined; }
  }, { timeoutMs: 15_000, what: 'snapshot after bus restart' });
  assert.equal(again.version, withoutRatings.version);

  // 6. Restart galley with the same state dir: same version, same publishedAt, even though a
  //    file is broken on disk at start (its last good version comes from the state dir).
  writeFileSync(join(configDir, 'reviews', 'reviews.yaml'), 'kind: [');
  await waitFor(async () => (await g!.status()).files.find((f) => f.file === 'reviews/reviews.yaml')?.state === 'invalid', { what: 'broken again' });
  const beforeRestart = await g.snapshot();
  await g.close();
  g = undefined;
  g = await startGalley(configDir, stateDir, nats.url);
  const afterRestart = await g.snapshot();
  assert.equal(afterRestart.version, beforeRestart.version);
  assert.equal(afterRestart.publishedAt, beforeRestart.publishedAt);
  assert.deepEqual(afterRestart.resources, beforeRestart.resources);
  const st = (await g.status()).files.find((f) => f.file === 'reviews/reviews.yaml')!;
  assert.equal(st.state, 'invalid');
  assert.equal(st.servingLastGood, true);
});

test('polling fallback, and a config folder that appears after start', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'galley-poll-'));
  const configDir = join(root, 'config');
  const galley = new Galley({ configDir, debounceMs: 10, pollMs: 50, log, metrics: createMetrics(), folderRetryMs: 50 });
  t.after(async () => {
    await galley.close();
    rmSync(root, { recursive: true, force: true });
  });
  await galley.start();
  assert.equal(galley.ready().ready, false);
  assert.match(galley.ready().detail ?? '', /not found/);

  mkdirSync(configDir);
  writeFileSync(join(configDir, 'ratings.yml'), dr('ratings', ['v1']));
  writeFileSync(join(configDir, 'notes.txt'), 'not config');
  await waitFor(() => galley.snapshot().resources.length === 1, { what: 'folder picked up' });
  assert.match(galley.ready().detail ?? '', /bus/, 'scanned; only the bus is missing');

  writeFileSync(join(configDir, 'ratings.yml'), dr('ratings', ['v1', 'v2']));
  await waitFor(() => JSON.stringify(galley.snapshot().resources).includes('"v2"'), { what: 'polled change' });
  assert.deepEqual(galley.status().files.map((f) => f.file), ['ratings.yml']);
});
