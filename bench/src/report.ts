// The results of one run: the issue's targets checked against them, the ratios printed as
// JSON, and the markdown table docs/benchmarks.md carries.

import type { DataPlaneResult } from './scenarios/data-plane.js';
import type { ConvergenceResult } from './scenarios/convergence.js';
import type { CitadelResult } from './scenarios/citadel.js';
import type { MixerResult } from './scenarios/mixer.js';
import type { StartupResult } from './scenarios/startup.js';
import type { ProfileResult } from './scenarios/profile.js';

export interface TargetCheck { id: string; what: string; target: string; measured: string; met: boolean | null }

export interface BenchResults {
  startedAt: string;
  mode: 'quick' | 'full';
  machine: { cpus: number; node: string; loadAvgAtStart: number[]; loadAvgAtEnd?: number[] };
  dataPlane?: DataPlaneResult;
  convergence?: ConvergenceResult;
  citadel?: CitadelResult;
  mixer?: MixerResult;
  startup?: StartupResult;
  profile?: ProfileResult;
  targets?: TargetCheck[];
}

export function evaluateTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const t = (id: string, what: string, target: string, measured: string, met: boolean | null) => out.push({ id, what, target, measured, met });
  const d = r.dataPlane;
  if (d) {
    t('P1', 'our pair / bare Node pair rps', '>= 0.9', String(d.p1.ratios.oursVsNodePair), d.p1.ratios.oursVsNodePair >= 0.9);
    t('P1', 'our pair / nginx pair rps', '>= 0.45', String(d.p1.ratios.oursVsNginxPair), d.p1.ratios.oursVsNginxPair >= 0.45);
    t('P2', 'added p99 at 1000 rps, c16 (ours - direct)', '<= 2 ms', `${d.p2.addedP99Ms.oursVsDirect1000} ms`, d.p2.addedP99Ms.oursVsDirect1000 <= 2);
    const ours = d.p3.vcpuPer1000Rps['our-pair'];
    if (ours) {
      const worst = Math.max(ours.client, ours.server);
      t('P3', 'vCPU per 1000 rps per sidecar (worse of the two)', '<= 0.2', String(worst), worst <= 0.2);
    }
    const mem = d.p3.memoryMiB['our-pair'];
    if (mem) t('P3', 'RSS per sidecar under load', '<= 60 MiB', `${mem.load} MiB`, mem.load <= 60);
    // "Beyond noise": less than 1 MiB of live heap per million requests after a full GC.
    // Fewer than 200k requests (--quick) extrapolate noise: reported, not judged.
    const judged = d.p3.growth.requests >= 200_000;
    t('P3', 'live heap growth per million requests (after GC)', '~0 (< 1 MiB)', `${d.p3.growth.heapMiBPerMillion} MiB over ${d.p3.growth.requests} requests${judged ? '' : ' (too few to judge)'}`, judged ? Math.abs(d.p3.growth.heapMiBPerMillion) < 1 : null);
    t('P6', 'telemetry cost on P1 rps', '<= 5 %', `${Math.round(d.p6TelemetryCost.cost * 1000) / 10} %`, d.p6TelemetryCost.cost <= 0.05);
  }
  const c = r.convergence;
  if (c) {
    for (const [n, ms] of [[100, 200], [1000, 1000]] as const) {
      const round = c.rounds.find((x) => x.n === n);
      if (round) t('P4', `convergence p99, N=${n}`, `<= ${ms} ms`, `${round.p99Ms} ms (${round.writes} writes, ${round.timeouts} timeouts)`, round.timeouts === 0 && round.p99Ms <= ms);
    }
  }
  const ci = r.citadel;
  if (ci) {
    t('P5', 'citadel certificates/s', '>= 400', String(ci.signing.certsPerSecond), ci.signing.certsPerSecond >= 400);
    t('P5', '100 sidecars certified (cold start)', '<= 2000 ms', `${ci.coldStart.allCertifiedMs} ms`, ci.coldStart.allCertifiedMs <= 2000);
  }
  const m = r.mixer;
  if (m) {
    t('P6', 'mixer records/s', '>= 300000', String(m.ingest.recordsPerSecond), m.ingest.recordsPerSecond >= 300_000);
    t('P6', 'cached check latency', '<= 50 us', 'n/a (no sidecar check cache yet)', null);
  }
  const s = r.startup;
  if (s) {
    t('P7', 'process mode: all healthy', '<= 5000 ms', `${s.processMode.allHealthyMs} ms`, s.processMode.allHealthyMs <= 5000);
    t('P7', 'whole mesh RSS with the demo', '<= 1536 MiB', `${s.processMode.meshRssMiB} MiB`, s.processMode.meshRssMiB <= 1536);
  }
  return out;
}

/** The ratios and headline figures, for the console. */
export function ratiosOf(r: BenchResults): Record<string, unknown> {
  const d = r.dataPlane;
  return {
    mode: r.mode,
    loadAvg: { start: r.machine.loadAvgAtStart, end: r.machine.loadAvgAtEnd },
    ...(d ? {
      p1Rps: d.p1.rps,
      p1Ratios: d.p1.ratios,
      p2AddedP99Ms: d.p2.addedP99Ms,
      p3VcpuPer1000Rps: d.p3.vcpuPer1000Rps,
      p3MemoryMiB: d.p3.memoryMiB,
      p3GrowthMiBPerMillion: { rss: d.p3.growth.rssMiBPerMillion, heap: d.p3.growth.heapMiBPerMillion },
      p6TelemetryCost: d.p6TelemetryCost.cost,
    } : {}),
    ...(r.convergence ? { p4: Object.fromEntries(r.convergence.rounds.map((x) => [`n${x.n}`, { p50Ms: x.p50Ms, p99Ms: x.p99Ms, timeouts: x.timeouts }])) } : {}),
    ...(r.citadel ? { p5: { certsPerSecond: r.citadel.signing.certsPerSecond, coldStart100Ms: r.citadel.coldStart.allCertifiedMs } } : {}),
    ...(r.mixer ? { p6: { recordsPerSecond: r.mixer.ingest.recordsPerSecond, checkUncachedP50Us: r.mixer.check.uncached.p50Us } } : {}),
    ...(r.startup ? { p7: { allHealthyMs: r.startup.processMode.allHealthyMs, meshRssMiB: r.startup.processMode.meshRssMiB } } : {}),
    targetsMet: (r.targets ?? []).filter((x) => x.met === true).length,
    targetsMissed: (r.targets ?? []).filter((x) => x.met === false).map((x) => `${x.id} ${x.what}: ${x.measured} (target ${x.target})`),
  };
}

export function renderMarkdown(r: BenchResults): string {
  const L: string[] = [];
  L.push(`# Benchmark run ${r.startedAt} (${r.mode})`, '');
  L.push(`${r.machine.cpus} CPUs, Node ${r.machine.node}, load average ${r.machine.loadAvgAtStart.join(' / ')} at start, ${(r.machine.loadAvgAtEnd ?? []).join(' / ')} at end.`, '');
  const d = r.dataPlane;
  if (d) {
    L.push(`## P1 throughput (wrk -t1 -c16, 1 KiB, ${d.p1.rounds} x ${d.p1.seconds} s, median)`, '');
    L.push('| path | rps | p50 ms | p99 ms | errors |', '| --- | ---: | ---: | ---: | ---: |');
    for (const [k, v] of Object.entries(d.p1.rps)) L.push(`| ${k} | ${v} | ${d.p1.latencyMs[k]?.p50} | ${d.p1.latencyMs[k]?.p99} | ${d.p1.errors[k]} |`);
    L.push('', `Ratios: ours/node-pair ${d.p1.ratios.oursVsNodePair}, ours/nginx ${d.p1.ratios.oursVsNginxPair}, ours/direct ${d.p1.ratios.oursVsDirect}, nginx/direct ${d.p1.ratios.nginxVsDirect}, node-pair/direct ${d.p1.ratios.nodePairVsDirect}.`, '');
    L.push(`## P2 latency under paced load (${d.p2.seconds} s each, measured from the scheduled send time)`, '');
    L.push('| path | 1 conn @200 rps p50 / p90 / p99 ms | 16 conn @1000 rps p50 / p90 / p99 ms | achieved rps |', '| --- | --- | --- | ---: |');
    for (const [k, v] of Object.entries(d.p2.runs)) {
      const a = v.oneConnection.latencyMs;
      const b = v.rate1000c16.latencyMs;
      L.push(`| ${k} | ${a.p50} / ${a.p90} / ${a.p99} | ${b.p50} / ${b.p90} / ${b.p99} | ${v.rate1000c16.achievedRps} |`);
    }
    L.push('', `Added at 1000 rps: ours p50 +${d.p2.addedP50Ms.oursVsDirect1000} ms, p90 +${d.p2.addedP90Ms.oursVsDirect1000} ms, p99 +${d.p2.addedP99Ms.oursVsDirect1000} ms; nginx p50 +${d.p2.addedP50Ms.nginxVsDirect1000}, p90 +${d.p2.addedP90Ms.nginxVsDirect1000}, p99 +${d.p2.addedP99Ms.nginxVsDirect1000} ms.`, '');
    const loop = d.p2.oursEventLoopDelayMs;
    if (loop) L.push(`Event-loop delay of our proxies during that run (a busy loop, not waiting sockets): client p99 ${loop.client.p99} ms (max ${loop.client.max}), server p99 ${loop.server.p99} ms (max ${loop.server.max}).`, '');
    L.push('## P3 resources per proxy', '');
    L.push('| pair | vCPU / 1000 rps (client, server) | RSS idle MiB | RSS under load MiB |', '| --- | --- | ---: | ---: |');
    for (const [k, v] of Object.entries(d.p3.memoryMiB)) {
      const c = d.p3.vcpuPer1000Rps[k];
      L.push(`| ${k} | ${c ? `${c.client}, ${c.server}` : '-'} | ${v.idle} | ${v.load} |`);
    }
    L.push('', `Growth through our pair over ${d.p3.growth.requests} requests: ${d.p3.growth.rssMiBPerMillion} MiB RSS and ${d.p3.growth.heapMiBPerMillion} MiB live heap per million requests (after a full GC; heap ${d.p3.ourHeapAfterGcMiB.before} -> ${d.p3.ourHeapAfterGcMiB.after} MiB).`, '');
    L.push(`Telemetry on vs off (P6): ${d.p6TelemetryCost.rpsOn} vs ${d.p6TelemetryCost.rpsOff} rps, cost ${Math.round(d.p6TelemetryCost.cost * 1000) / 10} %.`, '');
  }
  if (r.convergence) {
    L.push('## P4 convergence (file renamed into the folder -> every proxy ACKed it)', '');
    L.push('| proxies | writes | p50 ms | p99 ms | max ms | timeouts |', '| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const x of r.convergence.rounds) L.push(`| ${x.n} | ${x.writes} | ${x.p50Ms} | ${x.p99Ms} | ${x.maxMs} | ${x.timeouts} |`);
    L.push('', `Includes galley's ${r.convergence.debounceMs.galley} ms and pilot's ${r.convergence.debounceMs.pilot} ms debounce.`, '');
  }
  if (r.citadel) {
    const c = r.citadel;
    L.push('## P5 citadel', '');
    L.push(`Signing over the bus: ${c.signing.certsPerSecond} certificates/s with ECDSA P-256 workload keys (${c.signing.certificates} CSRs, ${c.signing.concurrency} in flight, ${c.signing.failures} failed); ${c.signingRsa.certsPerSecond}/s with RSA-2048 keys (${c.signingRsa.certificates} CSRs).`);
    L.push(`Cold start: ${c.coldStart.sidecars} sidecar identities (own ${c.coldStart.keyAlgorithm} key, CSR, connection) all certified in ${c.coldStart.allCertifiedMs} ms (first after ${c.coldStart.firstCertifiedMs} ms), ${c.coldStart.workers} worker processes.`);
    const w = c.workloadSideMs;
    L.push(`Workload side, alone, per identity: ECDSA P-256 key ${w.ECDSA_P256.keygen} ms + CSR signature ${w.ECDSA_P256.csrSign} ms; RSA-2048 key ${w.RSA_2048.keygen} ms + CSR signature ${w.RSA_2048.csrSign} ms (node:crypto).`, '');
  }
  if (r.mixer) {
    L.push('## P6 mixer', '');
    L.push(`Intake: ${r.mixer.ingest.recordsPerSecond} records/s (${r.mixer.ingest.records} records in batches of ${r.mixer.ingest.batchSize}).`);
    L.push(`Check over the bus (uncached): p50 ${r.mixer.check.uncached.p50Us} us, p99 ${r.mixer.check.uncached.p99Us} us. Cached: ${r.mixer.check.cached}.`, '');
  }
  if (r.startup) {
    const s = r.startup.processMode;
    L.push('## P7 start-up and footprint', '');
    L.push(`Process mode: ${s.processes} processes, all healthy in ${s.allHealthyMs} ms; whole mesh ${s.meshRssMiB} MiB resident (${Object.entries(s.byGroupMiB).map(([k, v]) => `${k} ${v}`).join(', ')}); per sidecar mean ${s.sidecarRssMiB.mean}, max ${s.sidecarRssMiB.max} MiB.`);
    if (s.cpuSeconds) L.push(`CPU until all healthy: ${s.cpuSeconds.total} s across the processes (${Object.entries(s.cpuSeconds.byGroup).map(([k, v]) => `${k} ${v}`).join(', ')}), launcher ${s.cpuSeconds.launcher} s.`);
    L.push(`Compose mode: ${r.startup.composeMode}.`, '');
  }
  if (r.profile) {
    for (const [name, pp] of [['our pair', r.profile.ours], ['bare Node pair', r.profile.nodePair]] as const) {
      L.push(`## CPU profile of the ${name} under wrk -c16 (${pp.rps} rps with --cpu-prof)`, '');
      for (const side of ['client', 'server'] as const) {
        const p = pp[side];
        L.push(`${side} (busy ${p.busyMs} ms, idle ${p.idleShare} %): ${p.areas.map((a) => `${a.area} ${a.share} %`).join(', ')}`, '');
        L.push('| self % | function | where |', '| ---: | --- | --- |');
        for (const f of p.top) L.push(`| ${f.share} | ${f.fn} | ${f.where} |`);
        L.push('');
      }
    }
  }
  if (r.targets?.length) {
    L.push('## Targets', '', '| | what | target | measured | met |', '| --- | --- | --- | --- | --- |');
    for (const x of r.targets) L.push(`| ${x.id} | ${x.what} | ${x.target} | ${x.measured} | ${x.met === null ? 'n/a' : x.met ? 'yes' : 'NO'} |`);
    L.push('');
  }
  return `${L.join('\n')}\n`;
}
