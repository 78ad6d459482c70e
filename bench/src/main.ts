// `npm run bench [-- --quick] [-- --only p1,p4] [-- --profile]`: runs the benchmarks side by
// side on loopback, writes bench/results/<time>.json and .md, and prints the ratios as JSON.
// Wiring only: each scenario lives in scenarios/.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { stopAll } from './procs.js';
import type { BenchEnv } from './control-plane.js';
import { runDataPlane } from './scenarios/data-plane.js';
import { runConvergence } from './scenarios/convergence.js';
import { runCitadel } from './scenarios/citadel.js';
import { runMixer } from './scenarios/mixer.js';
import { runStartup } from './scenarios/startup.js';
import { runProfile } from './scenarios/profile.js';
import { evaluateTargets, ratiosOf, renderMarkdown, type BenchResults } from './report.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const program = new Command()
  .name('bench')
  .option('--quick', 'short runs (about 3 minutes in all)')
  .option('--only <list>', 'comma list of p1..p7 (p1 also runs p2, p3 and the telemetry part of p6)')
  .option('--profile', 'also CPU-profile our sidecar pair under wrk load and summarise where the time goes')
  .option('--out <dir>', 'where results are written', join(root, 'bench/results'))
  .parse();
const opts = program.opts<{ quick?: boolean; only?: string; profile?: boolean; out: string }>();
const only = new Set((opts.only ?? 'p1,p4,p5,p6,p7').split(',').map((s) => s.trim().toLowerCase()));
const quick = opts.quick === true;

const work = mkdtempSync(join(tmpdir(), 'mesh-bench-'));
const env: BenchEnv = { root, work, logDir: join(work, 'logs') };
mkdirSync(env.logDir, { recursive: true });
const progress = (msg: string) => process.stderr.write(`[bench ${((performance.now()) / 1000).toFixed(0)}s] ${msg}\n`);
let interrupted = false;
process.on('SIGINT', () => { interrupted = true; void stopAll().then(() => process.exit(130)); });

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: { cpus: (await import('node:os')).cpus().length, loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100), node: process.version },
};
try {
  if (only.has('p1') || only.has('p2') || only.has('p3')) results.dataPlane = await runDataPlane(env, { quick }, progress);
  if (only.has('p4')) results.convergence = await runConvergence(env, { quick }, progress);
  if (only.has('p5')) results.citadel = await runCitadel(env, { quick }, progress);
  if (only.has('p6')) results.mixer = await runMixer(env, { quick }, progress);
  if (only.has('p7')) results.startup = await runStartup(env, { quick }, progress);
  if (opts.profile) results.profile = await runProfile(env, { quick }, progress);
} catch (err) {
  progress(`failed: ${(err as Error).stack ?? err}`);
  progress(`logs kept in ${env.logDir}`);
  await stopAll();
  process.exit(1);
} finally {
  await stopAll();
}
if (interrupted) process.exit(130);
results.machine.loadAvgAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
results.targets = evaluateTargets(results);
mkdirSync(opts.out, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, '-');
writeFileSync(join(opts.out, `${stamp}-${results.mode}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(opts.out, `${stamp}-${results.mode}.md`), renderMarkdown(results));
writeFileSync(join(opts.out, `latest-${results.mode}.md`), renderMarkdown(results));
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(ratiosOf(results), null, 2)}\n`);
process.exit(0);
