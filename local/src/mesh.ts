// Process mode: the same components as compose, as local processes on loopback.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '#api';
import { planMesh, type MeshPlan } from './plan.js';
import { Supervisor } from './supervisor.js';
import { ensureNatsServer } from './nats-install.js';
import type { DemoWorkload } from './demo.js';

export interface LocalMeshOptions {
  root: string;
  portOffset: number;
  portBase?: number;
  stateDir: string;
  configDir: string;
  demo: boolean;
  natsBin: string;
  logLevel: string;
  log: Logger;
  readyTimeoutMs?: number;
  workloads?: DemoWorkload[];
  /** NATS users and subject permissions per component and proxy (default true). */
  natsAuth?: boolean;
}

export interface LocalMesh {
  plan: MeshPlan;
  supervisor: Supervisor;
  stop(): Promise<void>;
}

/** The bootstrap secret citadel checks tokens against; kept so a restart keeps the same tokens. */
function bootstrapSecret(stateDir: string): string {
  const file = join(stateDir, 'bootstrap-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export async function startLocalMesh(o: LocalMeshOptions): Promise<LocalMesh> {
  const stateDir = resolve(o.root, o.stateDir);
  mkdirSync(stateDir, { recursive: true });
  ensureNatsServer(o.natsBin, o.log);
  const plan = planMesh({
    root: o.root, node: process.execPath, natsBin: o.natsBin, portOffset: o.portOffset, portBase: o.portBase || undefined, stateDir,
    configDir: o.configDir, demo: o.demo, logLevel: o.logLevel, citadelSecret: bootstrapSecret(stateDir),
    workloads: o.workloads, natsAuth: o.natsAuth,
  });
  // Passwords inside: readable by this user only, never logged.
  if (plan.natsConfig) writeFileSync(plan.natsConfig.file, plan.natsConfig.text, { mode: 0o600 });
  const supervisor = new Supervisor({ logDir: join(stateDir, 'logs'), log: o.log, cwd: o.root, readyTimeoutMs: o.readyTimeoutMs ?? 60_000 });
  const stop = () => supervisor.stopAll();
  const t0 = Date.now();
  try {
    // The bus first; then the control plane and the apps together (neither needs the other
    // to start); then every proxy at once, which needs citadel and pilot to answer.
    for (const groups of [['bus'], ['control', 'app'], ['proxy', 'gateway']]) {
      const specs = plan.processes.filter((p) => groups.includes(p.group));
      if (specs.length) await supervisor.startGroup(specs);
      o.log.debug({ groups, processes: specs.length, ms: Date.now() - t0 }, 'ready');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { plan, supervisor, stop };
}
