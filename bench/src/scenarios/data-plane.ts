// P1 (closed-loop throughput, wrk -c16, 1 KiB), P2 (paced latency: 1 connection, and 1000 rps
// over 16 connections), P3 (sidecar CPU per 1000 rps, memory idle / under load / growth),
// and P6's "what telemetry costs P1" (our pair with telemetry on against off).
// All pairs run at once and are measured in interleaved rounds, so a load change on the
// shared machine hits every variant alike; each figure is the median over rounds.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { writeBenchCerts } from '../certs.js';
import { startGalley, startMixer, startNatsServer, startPilot, type BenchEnv } from '../control-plane.js';
import type { PacedResult } from '../paced.js';
import { startApp, startNginxPair, startNodePair, startOurPair, type Target } from '../pairs.js';
import { cpuSeconds, eventLoopDelay, memoryAfterGc, MiB, rssBytes, stopAll, type LoopDelay } from '../procs.js';
import { runWrk, type WrkResult } from '../wrk.js';
import { mkdirSync } from 'node:fs';

export interface DataPlaneOptions {
  quick: boolean;
}

export interface DataPlaneResult {
  p1: {
    seconds: number;
    rounds: number;
    rps: Record<string, number>;
    latencyMs: Record<string, WrkResult['latencyMs']>;
    errors: Record<string, number>;
    ratios: { oursVsNodePair: number; oursVsNginxPair: number; oursVsDirect: number; nginxVsDirect: number; nodePairVsDirect: number };
  };
  p2: {
    seconds: number;
    runs: Record<string, { oneConnection: PacedResult; rate1000c16: PacedResult }>;
    addedP99Ms: { oursVsDirect1000: number; nginxVsDirect1000: number; oursVsNginx1000: number; oursVsDirect1c: number; nginxVsDirect1c: number };
    addedP50Ms: { oursVsDirect1000: number; nginxVsDirect1000: number };
    addedP90Ms: { oursVsDirect1000: number; nginxVsDirect1000: number };
    /** Event-loop delay of our two proxies during the paced 1000 rps run (ms). */
    oursEventLoopDelayMs?: { client: LoopDelay; server: LoopDelay };
  };
  p3: {
    /** vCPU per 1000 rps, per proxy of each pair (mean of client and server), at the paced 1000 rps. */
    vcpuPer1000Rps: Record<string, { client: number; server: number }>;
    memoryMiB: Record<string, { idle: number; load: number }>;
    ourHeapAfterGcMiB: { before: number; after: number };
    growth: { requests: number; rssMiBPerMillion: number; heapMiBPerMillion: number };
  };
  p6TelemetryCost: { rpsOn: number; rpsOff: number; cost: number };
}

function runPaced(env: BenchEnv, t: Target, rate: number, connections: number, seconds: number): Promise<PacedResult> {
  const arg = JSON.stringify({ port: t.port, host: t.host, rate, connections, seconds, warmupSeconds: 1 });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(env.root, 'dist/bench/src/paced.js'), arg], { timeout: (seconds + 60) * 1000 }, (err, stdout, stderr) => {
      if (err) { reject(new Error(`paced load failed: ${err.message}\n${stderr}`)); return; }
      resolve(JSON.parse(stdout) as PacedResult);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function runDataPlane(env: BenchEnv, o: DataPlaneOptions, progress: (msg: string) => void): Promise<DataPlaneResult> {
  try {
    const certs = writeBenchCerts(join(env.work, 'certs'), ['bench', 'bench-client']);
    const configDir = join(env.work, 'config-empty');
    mkdirSync(configDir, { recursive: true });
    const nats = await startNatsServer(env);
    await startGalley(env, nats, configDir);
    await startPilot(env, nats);
    await startMixer(env, nats);
    const direct = await startApp(env);
    const nodePair = await startNodePair(env, certs, direct.port);
    const nginxPair = await startNginxPair(env, certs, direct.port);
    const ours = await startOurPair(env, nats, certs, direct.port, { service: 'bench', telemetry: true });
    const oursOff = await startOurPair(env, nats, certs, direct.port, { service: 'benchoff', telemetry: false });
    progress('data plane: all pairs up');

    const idleRss = Object.fromEntries([ours, nodePair, nginxPair].map((t) => [t.name, t.procs.map((p) => rssBytes(p.pid))]));

    // P1: interleaved rounds of wrk -c16 against every target.
    const targets = [direct, nodePair, nginxPair, ours, oursOff];
    const seconds = o.quick ? 2 : 10;
    const rounds = o.quick ? 2 : 3;
    const samples = new Map<string, WrkResult[]>();
    const loadRss = new Map<string, number[]>();
    let oursRequests = 0;
    for (const t of targets) await runWrk(`http://127.0.0.1:${t.port}/`, { connections: 16, seconds: 1, host: t.host });
    const memBefore = await Promise.all(ours.procs.map((p) => memoryAfterGc(p)));
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        // Sample RSS mid-run: memory under load.
        const sampler = setTimeout(() => loadRss.set(t.name, t.procs.map((p) => rssBytes(p.pid))), seconds * 500);
        const res = await runWrk(`http://127.0.0.1:${t.port}/`, { connections: 16, seconds, host: t.host });
        clearTimeout(sampler);
        if (t === ours) oursRequests += res.requests;
        samples.set(t.name, [...(samples.get(t.name) ?? []), res]);
        progress(`P1 round ${r + 1}/${rounds} ${t.name}: ${Math.round(res.rps)} rps, p99 ${res.latencyMs.p99} ms`);
      }
    }
    const rps = Object.fromEntries([...samples].map(([k, v]) => [k, Math.round(median(v.map((x) => x.rps)))]));
    const latencyMs = Object.fromEntries([...samples].map(([k, v]) => [k, v.sort((a, b) => a.rps - b.rps)[Math.floor(v.length / 2)]!.latencyMs]));
    const errors = Object.fromEntries([...samples].map(([k, v]) => [k, v.reduce((a, x) => a + x.errors + x.non2xx, 0)]));

    // P2 and P3: paced load; CPU of each pair's proxies read around the 1000 rps run.
    const pacedSeconds = o.quick ? 4 : 20;
    const runs: DataPlaneResult['p2']['runs'] = {};
    const vcpu: DataPlaneResult['p3']['vcpuPer1000Rps'] = {};
    let loopDelay: { client: LoopDelay; server: LoopDelay } | undefined;
    for (const t of [direct, nginxPair, ours, nodePair]) {
      const oneConnection = await runPaced(env, t, 200, 1, pacedSeconds);
      if (t === ours) await Promise.all(t.procs.map((p) => eventLoopDelay(p)));
      const cpu0 = t.procs.map((p) => cpuSeconds(p.pid));
      const w0 = performance.now();
      const rate1000c16 = await runPaced(env, t, 1000, 16, pacedSeconds);
      const wall = (performance.now() - w0) / 1000;
      if (t === ours) {
        const [client, server] = await Promise.all(t.procs.map((p) => eventLoopDelay(p)));
        loopDelay = { client: client!, server: server! };
        progress(`P2 ${t.name}: event-loop delay p99 client ${client!.p99} ms, server ${server!.p99} ms`);
      }
      const cpu = t.procs.map((p, i) => cpuSeconds(p.pid) - cpu0[i]!);
      if (t.procs.length === 2) {
        // The wall time includes the paced run's warm-up second and its ramp; rps over the whole window.
        const perK = (c: number) => r3(c / wall / (rate1000c16.achievedRps / 1000));
        vcpu[t.name] = { client: perK(cpu[0]!), server: perK(cpu[1]!) };
      }
      if (t === ours) oursRequests += oneConnection.sent + rate1000c16.sent;
      runs[t.name] = { oneConnection, rate1000c16 };
      progress(`P2 ${t.name}: 1c@200 p99 ${oneConnection.latencyMs.p99} ms; c16@1000 p50 ${rate1000c16.latencyMs.p50} p99 ${rate1000c16.latencyMs.p99} ms`);
    }

    // P3 growth: a longer run through our pair in the full benchmark; memory after a full GC.
    if (!o.quick) {
      const res = await runWrk(`http://127.0.0.1:${ours.port}/`, { connections: 16, seconds: 120, host: ours.host });
      oursRequests += res.requests;
    }
    const memAfter = await Promise.all(ours.procs.map((p) => memoryAfterGc(p)));
    const sum = (ms: NodeJS.MemoryUsage[], k: 'rss' | 'heapUsed') => ms.reduce((a, m) => a + m[k], 0) / ms.length;
    const perMillion = (k: 'rss' | 'heapUsed') => r2((sum(memAfter, k) - sum(memBefore, k)) / MiB * 1e6 / Math.max(1, oursRequests));

    const d = (a: number, b: number) => r3(a - b);
    const pr = (n: string) => runs[n]!;
    const mib = (xs: number[] | undefined) => r2((xs ?? []).reduce((a, b) => a + b, 0) / Math.max(1, (xs ?? []).length) / MiB);
    return {
      p1: {
        seconds, rounds, rps, latencyMs, errors,
        ratios: {
          oursVsNodePair: r3(rps[ours.name]! / rps[nodePair.name]!),
          oursVsNginxPair: r3(rps[ours.name]! / rps[nginxPair.name]!),
          oursVsDirect: r3(rps[ours.name]! / rps[direct.name]!),
          nginxVsDirect: r3(rps[nginxPair.name]! / rps[direct.name]!),
          nodePairVsDirect: r3(rps[nodePair.name]! / rps[direct.name]!),
        },
      },
      p2: {
        seconds: pacedSeconds, runs,
        addedP99Ms: {
          oursVsDirect1000: d(pr(ours.name).rate1000c16.latencyMs.p99, pr('direct').rate1000c16.latencyMs.p99),
          nginxVsDirect1000: d(pr(nginxPair.name).rate1000c16.latencyMs.p99, pr('direct').rate1000c16.latencyMs.p99),
          oursVsNginx1000: d(pr(ours.name).rate1000c16.latencyMs.p99, pr(nginxPair.name).rate1000c16.latencyMs.p99),
          oursVsDirect1c: d(pr(ours.name).oneConnection.latencyMs.p99, pr('direct').oneConnection.latencyMs.p99),
          nginxVsDirect1c: d(pr(nginxPair.name).oneConnection.latencyMs.p99, pr('direct').oneConnection.latencyMs.p99),
        },
        addedP50Ms: {
          oursVsDirect1000: d(pr(ours.name).rate1000c16.latencyMs.p50, pr('direct').rate1000c16.latencyMs.p50),
          nginxVsDirect1000: d(pr(nginxPair.name).rate1000c16.latencyMs.p50, pr('direct').rate1000c16.latencyMs.p50),
        },
        addedP90Ms: {
          oursVsDirect1000: d(pr(ours.name).rate1000c16.latencyMs.p90, pr('direct').rate1000c16.latencyMs.p90),
          nginxVsDirect1000: d(pr(nginxPair.name).rate1000c16.latencyMs.p90, pr('direct').rate1000c16.latencyMs.p90),
        },
        ...(loopDelay ? { oursEventLoopDelayMs: loopDelay } : {}),
      },
      p3: {
        vcpuPer1000Rps: vcpu,
        memoryMiB: Object.fromEntries([ours, nodePair, nginxPair].map((t) => [t.name, { idle: mib(idleRss[t.name]), load: mib(loadRss.get(t.name)) }])),
        ourHeapAfterGcMiB: { before: r2(sum(memBefore, 'heapUsed') / MiB), after: r2(sum(memAfter, 'heapUsed') / MiB) },
        growth: { requests: oursRequests, rssMiBPerMillion: perMillion('rss'), heapMiBPerMillion: perMillion('heapUsed') },
      },
      p6TelemetryCost: { rpsOn: rps[ours.name]!, rpsOff: rps[oursOff.name]!, cost: r3(1 - rps[ours.name]! / rps[oursOff.name]!) },
    };
  } finally {
    await stopAll();
  }
}
