// citadel as the launcher runs it: `node dist/citadel/src/main.js` with env settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapToken, connectBus, createLogger, subjects, type Bus, type CsrResponse } from '#api';
import { buildCsr, generateWorkloadKey } from '../../sidecar/src/identity/csr.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { freePort, waitFor } from '../support/wait.js';

const MAIN = join(process.cwd(), 'dist/citadel/src/main.js');
const log = createLogger('test', 'silent');
let nats: NatsServer;
let dir: string;
let bus: Bus;
const procs: ChildProcess[] = [];

before(async () => {
  nats = await startNats();
  dir = mkdtempSync(join(tmpdir(), 'citadel-proc-'));
  bus = await connectBus({ servers: nats.url, name: 'test', log });
});
after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await bus.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startCitadel(env: Record<string, string>): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let out = '';
  const proc = spawn(process.execPath, [MAIN], { env: { ...process.env, MESH_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  procs.push(proc);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, output: () => out, exited };
}

async function json(url: string): Promise<any> {
  const r = await fetch(url);
  return r.json();
}

test('citadel signs over the bus, survives a bus restart, and keeps its root across restarts', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const env = { MESH_NATS_URL: nats.url, MESH_CITADEL_PORT: String(port), MESH_CITADEL_DATA_DIR: join(dir, 'data'), MESH_CITADEL_BOOTSTRAP_SECRET: 'proc-secret' };
  const base = `http://127.0.0.1:${port}`;
  let c = startCitadel(env);
  await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: 10_000, what: 'citadel ready' });
  const root = (await json(`${base}/debug/ca`)).signingRoot.fingerprint256;

  const csrPem = buildCsr(await generateWorkloadKey(), 'x', 'cluster.local');
  const req = { proxyId: 'sleep-1.default', csrPem, namespace: 'default', serviceAccount: 'sleep', token: bootstrapToken('proc-secret', 'default', 'sleep') };
  const signed = await bus.request<CsrResponse>(subjects.certSign, req, 5000);
  assert.equal(signed.ok, true);
  assert.equal((await json(`${base}/certs`)).certs[0].serial, signed.ok ? signed.serial : '');

  await nats.restart();
  const again = await waitFor(async () => bus.request<CsrResponse>(subjects.certSign, req, 1000), { timeoutMs: 15_000, what: 'signing after a bus restart' });
  assert.equal(again.ok, true);
  await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, { what: 'ready after the bus restart' });

  c.proc.kill('SIGTERM');
  assert.equal(await c.exited, 0, 'clean exit on SIGTERM');
  assert.doesNotMatch(c.output(), /proc-secret|PRIVATE KEY/, 'no secret or key in the logs');

  c = startCitadel(env);
  await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: 10_000, what: 'citadel ready again' });
  assert.equal((await json(`${base}/debug/ca`)).signingRoot.fingerprint256, root, 'same root after restart');
  c.proc.kill('SIGTERM');
  assert.equal(await c.exited, 0);
});

test('token attestation without a secret refuses to start with a clear error', { timeout: 10_000 }, async () => {
  const c = startCitadel({ MESH_NATS_URL: nats.url, MESH_CITADEL_PORT: String(await freePort()), MESH_CITADEL_DATA_DIR: join(dir, 'nosecret'), MESH_CITADEL_BOOTSTRAP_SECRET: '' });
  assert.equal(await c.exited, 2);
  assert.match(c.output(), /CA_CONFIG_INVALID.*MESH_CITADEL_BOOTSTRAP_SECRET/);
});
