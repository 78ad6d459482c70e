// P5 cold start, one worker of several (one per core: a hundred sidecars on this machine
// share its cores the same way): `count` identities, each the sidecar's own identity manager
// on its own NATS connection (own key, CSR, token attestation at citadel). Prints `ready`
// once connected, starts every identity when a line arrives on stdin, and prints the
// elapsed ms as JSON once every one holds a certificate.
// `node cold-start.js '{"natsUrl":..,"secret":..,"from":0,"count":50}'`

import { createInterface } from 'node:readline';
import { bootstrapToken, connectBus, createLogger, type Bus } from '#api';
import { createIdentityManager, type IdentityManager } from '../../sidecar/src/identity/index.js';

interface Spec { natsUrl: string; secret: string; from: number; count: number }

async function main(spec: Spec): Promise<void> {
  const log = createLogger('cold-start', 'silent');
  const buses: Bus[] = await Promise.all(Array.from({ length: spec.count }, (_, k) => connectBus({ servers: spec.natsUrl, name: `cold ${spec.from + k}`, log })));
  process.stdout.write('ready\n');
  await new Promise<void>((r) => createInterface({ input: process.stdin }).once('line', () => r()));
  const t0 = performance.now();
  const managers: IdentityManager[] = buses.map((bus, k) => {
    const sa = `cold-${spec.from + k}`;
    return createIdentityManager({
      bus, proxyId: `cold-${spec.from + k}-bench.default`, namespace: 'default', serviceAccount: sa,
      token: bootstrapToken(spec.secret, 'default', sa), ttlSeconds: 86_400, log, requestTimeoutMs: 30_000,
    });
  });
  const times = await Promise.all(managers.map(async (m) => { await m.start(); return performance.now() - t0; }));
  process.stdout.write(`${JSON.stringify({ ms: Math.max(...times), firstMs: Math.min(...times) })}\n`);
  for (const m of managers) m.stop();
  await Promise.all(buses.map((b) => b.close()));
  process.exit(0);
}

main(JSON.parse(process.argv[2] ?? '{}') as Spec).catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
