// One of our sidecars in its own process, as main.ts assembles it, except that the workload
// certificate comes from files (the same certificates the reference pairs use) instead of
// citadel. Config comes from the real pilot over the real bus.
// BENCH_TELEMETRY=off turns the per-request telemetry record into a no-op (the only way to
// measure what telemetry costs without changing the sidecar: the layer stays, its work goes).
// Env: MESH_NATS_URL, BENCH_SIDECAR (JSON, see RunnerSpec).

import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connectBus, createLogger, spiffeId } from '#api';
import { startSidecar } from '../../sidecar/src/sidecar.js';
import { TelemetryReporter } from '../../sidecar/src/telemetry.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';

export interface RunnerSpec {
  workload: string;
  serviceAccount: string;
  labels: Record<string, string>;
  services: string[];
  appPorts: string;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  telemetry: boolean;
  key: string;
  cert: string;
  roots: string;
}

const spec = JSON.parse(process.env.BENCH_SIDECAR ?? '{}') as RunnerSpec;
const log = createLogger('sidecar', process.env.MESH_LOG_LEVEL ?? 'warn');
if (!spec.telemetry) TelemetryReporter.prototype.record = () => {};

const id = spiffeId('default', spec.serviceAccount);
const workload: WorkloadSpec = {
  kind: 'sidecar', proxyId: `${spec.workload}-bench.default`, name: spec.workload, namespace: 'default',
  serviceAccount: spec.serviceAccount, labels: spec.labels, services: spec.services,
  ports: parseAppPorts(spec.appPorts), gatewayPortMap: new Map(), spiffeId: id,
  peer: { workload: spec.workload, namespace: 'default', app: spec.labels.app ?? spec.workload, version: spec.labels.version ?? 'unknown', principal: id },
};
const certPem = readFileSync(spec.cert, 'utf8');
const x = new X509Certificate(certPem);
const identity = staticIdentity({
  keyPem: readFileSync(spec.key, 'utf8'), certChainPem: certPem, rootsPem: readFileSync(spec.roots, 'utf8'),
  spiffeId: id, serial: x.serialNumber, notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo),
});
const bus = await connectBus({ servers: process.env.MESH_NATS_URL ?? 'nats://127.0.0.1:4222', name: `bench ${workload.proxyId}`, log });
const sidecar = await startSidecar({
  workload, bus, identity, log,
  inbound: { bind: '127.0.0.1', port: spec.inboundPort, advertise: '127.0.0.1' },
  outbound: { bind: '127.0.0.1', port: spec.outboundPort },
  adminPort: spec.adminPort,
  gatewayBind: '127.0.0.1',
  register: true,
  heartbeatMs: 5000,
  reportBatchMs: 200,
  reportBuffer: 10_000,
});
const stop = async () => {
  await sidecar.stop().catch(() => {});
  await bus.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => { void stop(); });
// The bench asks for memory after a full GC (started with --expose-gc) to tell growth from garbage.
// Event-loop delay (issue 8, P2): whether requests wait on a busy loop (CPU) or elsewhere
// (sockets, timers). The bench reads and resets it around a paced run.
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
process.on('message', (m: { cmd?: string }) => {
  if (m?.cmd === 'loop') {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    process.send?.({ p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) });
    loop.reset();
    return;
  }
  if (m?.cmd !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.(process.memoryUsage());
});
process.on('SIGINT', () => { void stop(); });
