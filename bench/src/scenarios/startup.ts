// P7: process mode from nothing to every process ready (the launcher's own readiness probes:
// nats, citadel, galley, pilot, mixer, the demo apps, every sidecar holding a certificate
// and config, the gateway), and the resident memory of the whole mesh with the demo.

import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { createLogger } from '#api';
import { startLocalMesh } from '../../../local/src/mesh.js';
import type { BenchEnv } from '../control-plane.js';
import { MiB, rssBytes } from '../procs.js';

export interface StartupResult {
  processMode: { allHealthyMs: number; processes: number; meshRssMiB: number; byGroupMiB: Record<string, number>; sidecarRssMiB: { mean: number; max: number } };
  composeMode: string;
}

/** Well away from the tests' offsets (20000, 21000). */
const PORT_OFFSET = 22_500;

export async function runStartup(env: BenchEnv, _o: { quick: boolean }, progress: (m: string) => void): Promise<StartupResult> {
  const stateDir = join(env.work, 'local-state');
  mkdirSync(stateDir, { recursive: true });
  const configDir = existsSync(join(env.root, 'compose/config')) ? join(env.root, 'compose/config') : join(env.work, 'config-empty');
  mkdirSync(configDir, { recursive: true });
  const t0 = performance.now();
  const mesh = await startLocalMesh({
    root: env.root, portOffset: PORT_OFFSET, stateDir, configDir, demo: true, natsBin: 'nats-server', logLevel: 'warn',
    log: createLogger('bench-local', 'silent'), readyTimeoutMs: 60_000,
  });
  const allHealthyMs = Math.round(performance.now() - t0);
  try {
    const byGroup: Record<string, number> = {};
    const sidecars: number[] = [];
    let total = 0;
    for (const r of mesh.supervisor.list()) {
      const rss = r.child.pid ? rssBytes(r.child.pid) : 0;
      total += rss;
      byGroup[r.spec.group] = (byGroup[r.spec.group] ?? 0) + rss;
      if (r.spec.group === 'proxy' || r.spec.group === 'gateway') sidecars.push(rss);
    }
    const m = (b: number) => Math.round((b / MiB) * 10) / 10;
    const result: StartupResult = {
      processMode: {
        allHealthyMs, processes: mesh.supervisor.list().length, meshRssMiB: m(total),
        byGroupMiB: Object.fromEntries(Object.entries(byGroup).map(([k, v]) => [k, m(v)])),
        sidecarRssMiB: { mean: m(sidecars.reduce((a, b) => a + b, 0) / Math.max(1, sidecars.length)), max: m(Math.max(...sidecars)) },
      },
      composeMode: 'not measured by this harness yet: it needs the Docker engine and the offline images (npm run compose:offline); time `docker compose up --wait` by hand',
    };
    progress(`P7 process mode: ${result.processMode.processes} processes healthy in ${allHealthyMs} ms, ${result.processMode.meshRssMiB} MiB resident`);
    return result;
  } finally {
    await mesh.stop();
  }
}
