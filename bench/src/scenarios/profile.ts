// Where our sidecar pair spends its CPU under wrk load: both proxies run with --cpu-prof,
// the profiles are written when they exit, and summarised by area and by function. A
// separate pass, so profiling overhead never touches the P1-P3 figures.

import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeBenchCerts } from '../certs.js';
import { startGalley, startMixer, startNatsServer, startPilot, type BenchEnv } from '../control-plane.js';
import { startApp, startNodePair, startOurPair, type Target } from '../pairs.js';
import { stopAll } from '../procs.js';
import { summariseProfile, type ProfileSummary } from '../profile.js';
import { runWrk } from '../wrk.js';

export interface PairProfile { rps: number; client: ProfileSummary; server: ProfileSummary }
export interface ProfileResult { dir: string; ours: PairProfile; nodePair: PairProfile }

export async function runProfile(env: BenchEnv, o: { quick: boolean }, progress: (m: string) => void): Promise<ProfileResult> {
  const dir = join(env.root, 'bench/results/profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  for (const sub of ['ours/client', 'ours/server', 'node/client', 'node/server']) mkdirSync(join(dir, sub), { recursive: true });
  try {
    const certs = writeBenchCerts(join(env.work, 'certs-prof'), ['bench', 'bench-client']);
    const configDir = join(env.work, 'config-prof');
    mkdirSync(configDir, { recursive: true });
    const nats = await startNatsServer(env, 'nats-prof');
    await startGalley(env, nats, configDir);
    await startPilot(env, nats);
    await startMixer(env, nats);
    const app = await startApp(env);
    // `%SIDE%` in the node flags becomes client or server: one profile directory per process.
    const ours = await startOurPair(env, nats, certs, app.port, { service: 'bench', telemetry: true, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(dir, 'ours/%SIDE%')] });
    const nodePair = await startNodePair(env, certs, app.port, ['--cpu-prof', '--cpu-prof-dir', join(dir, 'node/%SIDE%')]);
    const measure = async (t: Target, sub: string): Promise<PairProfile> => {
      await runWrk(`http://127.0.0.1:${t.port}/`, { connections: 16, seconds: 2, host: t.host });
      const res = await runWrk(`http://127.0.0.1:${t.port}/`, { connections: 16, seconds: o.quick ? 6 : 15, host: t.host });
      progress(`profile ${t.name}: ${Math.round(res.rps)} rps under --cpu-prof`);
      await Promise.all(t.procs.map((p) => p.stop()));
      const one = (side: string) => {
        const files = readdirSync(join(dir, sub, side)).filter((f) => f.endsWith('.cpuprofile'));
        if (!files.length) throw new Error(`no CPU profile written in ${join(dir, sub, side)}`);
        return summariseProfile(join(dir, sub, side, files[0]!));
      };
      return { rps: Math.round(res.rps), client: one('client'), server: one('server') };
    };
    return { dir, ours: await measure(ours, 'ours'), nodePair: await measure(nodePair, 'node') };
  } finally {
    await stopAll();
  }
}
