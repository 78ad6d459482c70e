// P5: citadel's signing rate over the real transport (CSRs prepared in advance, so only
// citadel is measured), and a cold start of 100 sidecar identities until every one holds a
// certificate (each its own key, CSR, NATS connection; two worker processes, one per core).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bootstrapToken, connectBus, createLogger, spiffeId, subjects, type CsrRequest, type CsrResponse } from '#api';
import { buildCsr, generateWorkloadKey } from '../../../sidecar/src/identity/csr.js';
import { startCitadel, startNatsServer, type BenchEnv } from '../control-plane.js';
import { stopAll } from '../procs.js';

export interface CitadelResult {
  signing: { certificates: number; concurrency: number; seconds: number; certsPerSecond: number; failures: number };
  coldStart: { sidecars: number; workers: number; allCertifiedMs: number; firstCertifiedMs: number };
  /** Per-operation costs on the workload side, measured alone, to explain the cold start. */
  workloadSideMs: { rsaKeygen2048: number; csrSignForge: number };
}

export async function runCitadel(env: BenchEnv, o: { quick: boolean }, progress: (m: string) => void): Promise<CitadelResult> {
  const secret = randomBytes(24).toString('base64url');
  const nats = await startNatsServer(env, 'nats-p5');
  const bus = await connectBus({ servers: nats.url, name: 'bench p5', log: createLogger('bench', 'silent') });
  try {
    await startCitadel(env, nats, secret);

    // Workload-side costs, alone.
    const keys = [];
    let t = performance.now();
    for (let i = 0; i < 8; i++) keys.push(await generateWorkloadKey());
    const keygen = (performance.now() - t) / 8;
    t = performance.now();
    const csrs = keys.map((k, i) => buildCsr(k, spiffeId('default', `sign-${i}`), 'cluster.local'));
    const csrSign = (performance.now() - t) / 8;

    // Signing rate: `total` requests, `concurrency` in flight.
    const total = o.quick ? 400 : 2000;
    const concurrency = 32;
    let next = 0;
    let failures = 0;
    const request = (i: number): CsrRequest => {
      const sa = `sign-${i % 8}`;
      return { proxyId: `sign-${i}.default`, csrPem: csrs[i % 8]!, namespace: 'default', serviceAccount: sa, token: bootstrapToken(secret, 'default', sa), ttlSeconds: 3600 };
    };
    for (let i = 0; i < 16; i++) await bus.request<CsrResponse>(subjects.certSign, request(i), 10_000);
    t = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const r = await bus.request<CsrResponse>(subjects.certSign, request(i), 30_000).catch(() => undefined);
        if (!r?.ok) failures++;
      }
    }));
    const seconds = (performance.now() - t) / 1000;
    const signing = { certificates: total, concurrency, seconds: Math.round(seconds * 1000) / 1000, certsPerSecond: Math.round(total / seconds), failures };
    progress(`P5 citadel: ${signing.certsPerSecond} certificates/s (${failures} failed)`);

    // Cold start: 100 identities over two worker processes.
    const workers = 2;
    const sidecars = 100;
    const children = Array.from({ length: workers }, (_, w) => {
      const spec = { natsUrl: nats.url, secret, from: w * (sidecars / workers), count: sidecars / workers };
      return spawn(process.execPath, [join(env.root, 'dist/bench/src/cold-start.js'), JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'inherit'] });
    });
    const lines = children.map((c) => createInterface({ input: c.stdout! }));
    await Promise.all(lines.map((rl) => new Promise<void>((r) => rl.once('line', () => r()))));
    const results = lines.map((rl) => new Promise<{ ms: number; firstMs: number }>((resolve, reject) => {
      rl.once('line', (l) => resolve(JSON.parse(l)));
      setTimeout(() => reject(new Error('cold start did not finish within 120 s')), 120_000).unref();
    }));
    t = performance.now();
    for (const c of children) c.stdin!.write('go\n');
    const done = await Promise.all(results);
    const allMs = performance.now() - t;
    const coldStart = { sidecars, workers, allCertifiedMs: Math.round(allMs), firstCertifiedMs: Math.round(Math.min(...done.map((d) => d.firstMs))) };
    progress(`P5 cold start: ${sidecars} sidecars certified in ${coldStart.allCertifiedMs} ms`);
    return { signing, coldStart, workloadSideMs: { rsaKeygen2048: Math.round(keygen * 10) / 10, csrSignForge: Math.round(csrSign * 10) / 10 } };
  } finally {
    await bus.close();
    await stopAll();
  }
}
