// P7: process mode from nothing to every process ready (the launcher's own readiness probes:
// nats, citadel, galley, pilot, mixer, the demo apps, every sidecar holding a certificate
// and config, the gateway), and the resident memory of the whole mesh with the demo.

import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createLogger } from '#api';
import { startLocalMesh } from '../../../local/src/mesh.js';
import type { BenchEnv } from '../control-plane.js';
import { MiB, rssBytes } from '../procs.js';

export interface StartupResult {
  processMode: {
    allHealthyMs: number; processes: number; meshRssMiB: number; byGroupMiB: Record<string, number>; sidecarRssMiB: { mean: number; max: number };
    /** CPU (user + system) the processes burned until all were healthy: start-up is CPU-bound on 2 cores. */
    cpuSeconds?: { total: number; byGroup: Record<string, number>; launcher: number };
  };
  composeMode: string;
}

/**
 * Laid out compactly above Linux's ephemeral range (32768-60999), where no outgoing connection
 * of another process can hold one of our ports first (an offset of 22500 put the demo's ports
 * there, and a loaded machine made that a frequent EADDRINUSE). Clear of the tests' bases
 * (journey 61000, launcher 62000, browser 63000, chaos 64000).
 */
const PORT_BASE = 64_600;

const s2 = (x: number) => Math.round(x * 100) / 100;

/** utime + stime of one process, seconds (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

export async function runStartup(env: BenchEnv, _o: { quick: boolean }, progress: (m: string) => void): Promise<StartupResult> {
  const stateDir = join(env.work, 'local-state');
  mkdirSync(stateDir, { recursive: true });
  const configDir = existsSync(join(env.root, 'compose/config')) ? join(env.root, 'compose/config') : join(env.work, 'config-empty');
  mkdirSync(configDir, { recursive: true });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const mesh = await startLocalMesh({
    root: env.root, portOffset: 0, portBase: PORT_BASE, stateDir, configDir, demo: true, natsBin: 'nats-server', logLevel: 'warn',
    log: createLogger('bench-local', 'silent'), readyTimeoutMs: 60_000,
  });
  const allHealthyMs = Math.round(performance.now() - t0);
  const launcherCpu = process.cpuUsage(cpu0);
  try {
    const byGroup: Record<string, number> = {};
    const cpuByGroup: Record<string, number> = {};
    const sidecars: number[] = [];
    let total = 0;
    for (const r of mesh.supervisor.list()) {
      const rss = r.child.pid ? rssBytes(r.child.pid) : 0;
      total += rss;
      byGroup[r.spec.group] = (byGroup[r.spec.group] ?? 0) + rss;
      cpuByGroup[r.spec.group] = (cpuByGroup[r.spec.group] ?? 0) + (r.child.pid ? cpuSeconds(r.child.pid) : 0);
      if (r.spec.group === 'proxy' || r.spec.group === 'gateway') sidecars.push(rss);
    }
    const m = (b: number) => Math.round((b / MiB) * 10) / 10;
    const result: StartupResult = {
      processMode: {
        allHealthyMs, processes: mesh.supervisor.list().length, meshRssMiB: m(total),
        byGroupMiB: Object.fromEntries(Object.entries(byGroup).map(([k, v]) => [k, m(v)])),
        sidecarRssMiB: { mean: m(sidecars.reduce((a, b) => a + b, 0) / Math.max(1, sidecars.length)), max: m(Math.max(...sidecars)) },
        cpuSeconds: {
          total: s2(Object.values(cpuByGroup).reduce((a, b) => a + b, 0)),
          byGroup: Object.fromEntries(Object.entries(cpuByGroup).map(([k, v]) => [k, s2(v)])),
          launcher: s2((launcherCpu.user + launcherCpu.system) / 1e6),
        },
      },
      composeMode: 'not measured by this harness yet: it needs the Docker engine and the offline images (npm run compose:offline); time `docker compose up --wait` by hand',
    };
    progress(`P7 process mode: ${result.processMode.processes} processes healthy in ${allHealthyMs} ms, ${result.processMode.meshRssMiB} MiB resident`);
    return result;
  } finally {
    await mesh.stop();
  }
}
