// P5: citadel's signing rate over the real transport (CSRs prepared in advance, so only
// citadel is measured), and a cold start of 100 sidecar identities until every one holds a
// certificate (each its own key, CSR, NATS connection; two worker processes, one per core).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bootstrapToken, connectBus, createLogger, spiffeId, subjects, type CsrRequest, type CsrResponse } from '#api';
import { DEFAULT_KEY_ALGORITHM, buildCsr, generateWorkloadKey, type KeyAlgorithm } from '../../../sidecar/src/identity/csr.js';
import { startCitadel, startNatsServer, type BenchEnv } from '../control-plane.js';
import { stopAll } from '../procs.js';

export interface CitadelResult {
  /** Signing rate with the sidecar's default workload keys (ECDSA P-256). */
  signing: SigningRate;
  /** The same with RSA-2048 workload keys (MESH_KEY_ALGORITHM=RSA_2048), shorter. */
  signingRsa: SigningRate;
  coldStart: { sidecars: number; workers: number; keyAlgorithm: KeyAlgorithm; allCertifiedMs: number; firstCertifiedMs: number };
  /** Per-operation costs on the workload side, measured alone, to explain the cold start. */
  workloadSideMs: Record<KeyAlgorithm, { keygen: number; csrSign: number }>;
}

interface SigningRate { certificates: number; concurrency: number; seconds: number; certsPerSecond: number; failures: number }

export async function runCitadel(env: BenchEnv, o: { quick: boolean }, progress: (m: string) => void): Promise<CitadelResult> {
  const secret = randomBytes(24).toString('base64url');
  const nats = await startNatsServer(env, 'nats-p5');
  const bus = await connectBus({ servers: nats.url, name: 'bench p5', log: createLogger('bench', 'silent') });
  try {
    await startCitadel(env, nats, secret);

    // Workload-side costs, alone, per key type; the CSRs are reused for the signing rate.
    const workloadSideMs = {} as CitadelResult['workloadSideMs'];
    const csrsBy = {} as Record<KeyAlgorithm, string[]>;
    for (const alg of ['ECDSA_P256', 'RSA_2048'] as const) {
      const keys = [];
      let t = performance.now();
      for (let i = 0; i < 8; i++) keys.push(await generateWorkloadKey(alg));
      const keygen = (performance.now() - t) / 8;
      t = performance.now();
      csrsBy[alg] = keys.map((k, i) => buildCsr(k, spiffeId('default', `sign-${i}`), 'cluster.local'));
      const csrSign = (performance.now() - t) / 8;
      workloadSideMs[alg] = { keygen: Math.round(keygen * 100) / 100, csrSign: Math.round(csrSign * 100) / 100 };
    }

    // Signing rate: `total` requests, `concurrency` in flight.
    const rate = async (csrs: string[], total: number): Promise<SigningRate> => {
      const concurrency = 32;
      let next = 0;
      let failures = 0;
      const request = (i: number): CsrRequest => {
        const sa = `sign-${i % 8}`;
        return { proxyId: `sign-${i}.default`, csrPem: csrs[i % 8]!, namespace: 'default', serviceAccount: sa, token: bootstrapToken(secret, 'default', sa), ttlSeconds: 3600 };
      };
      for (let i = 0; i < 16; i++) await bus.request<CsrResponse>(subjects.certSign, request(i), 10_000);
      const t = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const r = await bus.request<CsrResponse>(subjects.certSign, request(i), 30_000).catch(() => undefined);
          if (!r?.ok) failures++;
        }
      }));
      const seconds = (performance.now() - t) / 1000;
      return { certificates: total, concurrency, seconds: Math.round(seconds * 1000) / 1000, certsPerSecond: Math.round(total / seconds), failures };
    };
    const signing = await rate(csrsBy[DEFAULT_KEY_ALGORITHM], o.quick ? 400 : 2000);
    progress(`P5 citadel: ${signing.certsPerSecond} certificates/s, ${DEFAULT_KEY_ALGORITHM} CSRs (${signing.failures} failed)`);
    const signingRsa = await rate(csrsBy.RSA_2048, o.quick ? 200 : 1000);
    progress(`P5 citadel: ${signingRsa.certsPerSecond} certificates/s, RSA_2048 CSRs (${signingRsa.failures} failed)`);
    let t: number;

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
    const coldStart = { sidecars, workers, keyAlgorithm: DEFAULT_KEY_ALGORITHM, allCertifiedMs: Math.round(allMs), firstCertifiedMs: Math.round(Math.min(...done.map((d) => d.firstMs))) };
    progress(`P5 cold start: ${sidecars} sidecars certified in ${coldStart.allCertifiedMs} ms`);
    return { signing, signingRsa, coldStart, workloadSideMs };
  } finally {
    await bus.close();
    await stopAll();
  }
}
