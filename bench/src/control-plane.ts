// The mesh's own processes for a benchmark: nats-server, galley, pilot, mixer, citadel, each
// the real entry point from dist/, on free loopback ports, quiet logs.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/wait.js';
import { spawnProc, waitHttp, waitPort, type Proc } from './procs.js';

export interface BenchEnv {
  root: string;
  work: string;
  logDir: string;
}

export interface Nats { url: string; port: number; proc: Proc }

export async function startNatsServer(env: BenchEnv, name = 'nats'): Promise<Nats> {
  const port = await freePort();
  const proc = spawnProc(name, 'nats-server', ['-a', '127.0.0.1', '-p', String(port)], { logDir: env.logDir });
  await waitPort(proc, port, 15_000);
  return { url: `nats://127.0.0.1:${port}`, port, proc };
}

function node(env: BenchEnv, name: string, entry: string, vars: Record<string, string>, nodeArgs: string[] = []): Proc {
  return spawnProc(name, process.execPath, [...nodeArgs, join(env.root, 'dist', entry)], { env: { MESH_LOG_LEVEL: 'warn', ...vars }, logDir: env.logDir, cwd: env.root });
}

export interface Component { proc: Proc; url: string }

export async function startGalley(env: BenchEnv, nats: Nats, configDir: string, extra: Record<string, string> = {}): Promise<Component> {
  const port = await freePort();
  const state = join(env.work, `galley-state-${port}`);
  mkdirSync(state, { recursive: true });
  const proc = node(env, 'galley', 'galley/src/main.js', { MESH_NATS_URL: nats.url, MESH_GALLEY_PORT: String(port), MESH_CONFIG_DIR: configDir, MESH_GALLEY_STATE_DIR: state, ...extra });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(proc, `${url}/ready`);
  return { proc, url };
}

export async function startPilot(env: BenchEnv, nats: Nats, extra: Record<string, string> = {}): Promise<Component> {
  const port = await freePort();
  const proc = node(env, 'pilot', 'pilot/src/main.js', { MESH_NATS_URL: nats.url, MESH_PILOT_PORT: String(port), MESH_REGISTRIES: 'announce', ...extra });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(proc, `${url}/ready`);
  return { proc, url };
}

export async function startMixer(env: BenchEnv, nats: Nats): Promise<Component> {
  const port = await freePort();
  const metrics = await freePort();
  const proc = node(env, 'mixer', 'mixer/src/main.js', { MESH_NATS_URL: nats.url, MESH_MIXER_PORT: String(port), MESH_MIXER_METRICS_PORT: String(metrics) });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(proc, `${url}/ready`);
  return { proc, url };
}

export async function startCitadel(env: BenchEnv, nats: Nats, secret: string): Promise<Component> {
  const port = await freePort();
  const data = join(env.work, `citadel-${port}`);
  const proc = node(env, 'citadel', 'citadel/src/main.js', {
    MESH_NATS_URL: nats.url, MESH_CITADEL_PORT: String(port), MESH_CITADEL_DATA_DIR: data,
    MESH_CITADEL_ATTESTATION: 'token', MESH_CITADEL_BOOTSTRAP_SECRET: secret,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(proc, `${url}/ready`);
  return { proc, url };
}
