// P4: a file written into galley's folder (atomic rename) until every proxy has ACKed the
// config that carries it, N = 10, 100, 1000 simulated proxies (real NATS clients running
// the sidecar's config client and config apply), with the real galley and pilot processes.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectBus, createLogger, subjects, type ConfigAck } from '#api';
import { startGalley, startNatsServer, startPilot, type BenchEnv } from '../control-plane.js';
import { stopAll, waitUntil } from '../procs.js';
import { APPLIED_SUBJECT, type SimApplied } from '../sim-proxies.js';

export interface ConvergenceRound { n: number; writes: number; timeouts: number; p50Ms: number; p99Ms: number; maxMs: number; samplesMs: number[] }
export interface ConvergenceResult { rounds: ConvergenceRound[]; debounceMs: { galley: number; pilot: number } }

function virtualService(marker: string): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: sim
  namespace: default
spec:
  hosts: [sim]
  http:
  - match:
    - headers:
        x-bench-write:
          exact: ${marker}
    route:
    - destination: {host: sim}
  - route:
    - destination: {host: sim}
`;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : NaN;
};

export async function runConvergence(env: BenchEnv, o: { quick: boolean }, progress: (m: string) => void): Promise<ConvergenceResult> {
  const configDir = join(env.work, 'config-p4');
  const stage = join(env.work, 'stage-p4');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(stage, { recursive: true });
  const write = (marker: string) => {
    const tmp = join(stage, 'sim.yaml');
    writeFileSync(tmp, virtualService(marker));
    renameSync(tmp, join(configDir, 'sim.yaml'));
  };
  write('initial');
  const sims: ChildProcess[] = [];
  const nats = await startNatsServer(env, 'nats-p4');
  const bus = await connectBus({ servers: nats.url, name: 'bench p4', log: createLogger('bench', 'silent') });
  try {
    await startGalley(env, nats, configDir);
    await startPilot(env, nats);
    const applied = new Map<string, string>();
    const acked = new Map<string, string>();
    let onAck: ((proxyId: string, marker: string) => void) | undefined;
    bus.subscribe<SimApplied>(APPLIED_SUBJECT, (m) => { applied.set(`${m.data.proxyId} ${m.data.version}`, m.data.marker); });
    bus.subscribe<ConfigAck>(subjects.proxyAck, (m) => {
      if (!m.data.ok) return;
      const marker = applied.get(`${m.data.proxyId} ${m.data.version}`);
      if (marker === undefined) return;
      acked.set(m.data.proxyId, marker);
      onAck?.(m.data.proxyId, marker);
    });
    await bus.flush();

    const rounds: ConvergenceRound[] = [];
    for (const n of [10, 100, 1000]) {
      const writes = o.quick ? (n === 1000 ? 5 : 8) : 50;
      acked.clear();
      applied.clear();
      const per = 250;
      const started: Promise<void>[] = [];
      for (let from = 0; from < n; from += per) {
        const spec = { natsUrl: nats.url, from, count: Math.min(per, n - from), registerBelow: 10 };
        const child = spawn(process.execPath, [join(env.root, 'dist/bench/src/sim-proxies.js'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
        sims.push(child);
        started.push(new Promise((resolve, reject) => {
          const rl = createInterface({ input: child.stdout! });
          rl.once('line', () => resolve());
          child.once('exit', (code) => reject(new Error(`simulated proxies exited (${code})`)));
        }));
      }
      await Promise.all(started);
      write(`n${n}-settle`);
      await waitUntil(() => [...acked.values()].filter((m) => m === `n${n}-settle`).length === n, `${n} proxies to ACK their first config`, 120_000, 50);
      progress(`P4 N=${n}: all proxies synced`);
      const samples: number[] = [];
      let timeouts = 0;
      for (let w = 1; w <= writes; w++) {
        const marker = `n${n}-w${w}`;
        const done = new Set<string>();
        const finished = new Promise<number>((resolve) => {
          const t0 = performance.now();
          const timer = setTimeout(() => resolve(NaN), 30_000);
          onAck = (proxyId, m) => {
            if (m !== marker) return;
            done.add(proxyId);
            if (done.size === n) { clearTimeout(timer); resolve(performance.now() - t0); }
          };
          write(marker);
        });
        const ms = await finished;
        onAck = undefined;
        if (Number.isNaN(ms)) timeouts++;
        else samples.push(Math.round(ms * 10) / 10);
      }
      rounds.push({ n, writes, timeouts, p50Ms: pct(samples, 0.5), p99Ms: pct(samples, 0.99), maxMs: Math.max(...samples), samplesMs: samples });
      progress(`P4 N=${n}: p50 ${pct(samples, 0.5)} ms, p99 ${pct(samples, 0.99)} ms over ${samples.length} writes (${timeouts} timed out)`);
      await Promise.all(sims.splice(0).map((c) => new Promise<void>((r) => { c.once('exit', () => r()); c.kill('SIGTERM'); })));
    }
    return { rounds, debounceMs: { galley: 50, pilot: 100 } };
  } finally {
    for (const c of sims) c.kill('SIGKILL');
    await bus.close();
    await stopAll();
  }
}
