// Wiring only: settings -> bus -> identity (first cert) -> listeners -> config client -> admin.
// SIGTERM/SIGINT at any point (also while waiting for the first certificate): depart, close
// listeners, exit 0.

import { connectBus, createLogger, type Bus } from '#api';
import { createIdentityManager, type IdentityManager } from './identity/index.js';
import { sidecarSettings } from './settings.js';
import { startSidecar, type Sidecar } from './sidecar.js';
import { parseTcpUpstreams } from './tcp/outbound.js';
import { defaultAdvertiseAddress, workloadFromSettings } from './workload.js';

/** Set once a signal arrived: startup steps that fail because of the shutdown are not errors. */
let stopping = false;

async function main(): Promise<void> {
  const s = sidecarSettings.load();
  const workload = workloadFromSettings(s);
  const log = createLogger(s.kind === 'gateway' ? 'gateway' : 'sidecar', s.logLevel).child({ proxy: workload.proxyId });

  let bus: Bus | undefined;
  let identity: IdentityManager | undefined;
  let sidecar: Sidecar | undefined;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    try {
      await sidecar?.stop();
      identity?.stop();
      await bus?.close();
    } catch (err) {
      log.warn({ err }, 'unclean shutdown');
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => { void shutdown('SIGTERM'); });
  process.on('SIGINT', () => { void shutdown('SIGINT'); });

  bus = await connectBus({
    servers: s.natsUrl,
    name: `${s.kind} ${workload.proxyId}`,
    log,
    ...(s.natsUser ? { user: s.natsUser, pass: s.natsPass } : {}),
  });
  identity = createIdentityManager({
    bus,
    proxyId: workload.proxyId,
    namespace: workload.namespace,
    serviceAccount: workload.serviceAccount,
    ttlSeconds: s.certTtlSeconds,
    keyAlgorithm: s.keyAlgorithm,
    log,
    ...(s.citadelToken ? { token: s.citadelToken } : {}),
    ...(s.certDir ? { certDir: s.certDir } : {}),
  });
  await identity.start();
  if (stopping) return;
  sidecar = await startSidecar({
    workload, bus, identity, log,
    inbound: { bind: s.inboundBind, port: s.inboundPort, advertise: s.inboundAdvertise || defaultAdvertiseAddress() },
    outbound: { bind: s.outboundBind, port: s.outboundPort },
    adminPort: s.adminPort,
    gatewayBind: s.gatewayBind,
    gatewayCredentialDir: s.gatewayCredentialDir,
    register: s.register,
    tcpUpstreams: parseTcpUpstreams(s.tcpUpstreams, workload.namespace),
    busScoped: Boolean(s.natsUser),
    heartbeatMs: s.heartbeatMs,
    reportBatchMs: s.reportBatchMs,
    reportBuffer: s.reportBuffer,
    ...(s.policyChecks ? {
      policy: { failOpen: s.policyFailOpen, timeoutMs: s.policyCheckTimeoutMs, cacheSize: s.policyCacheSize, retryAfterMs: s.policyRetryMs, clientSide: s.policyClientSide },
    } : {}),
  });
  log.info({ ports: sidecar.ports, kind: workload.kind, spiffeId: identity.current()?.spiffeId }, 'proxy started');
}

main().catch((err) => {
  if (stopping) return;
  // Settings and startup errors name the variable or the part; print and exit non-zero.
  console.error(`sidecar: ${(err as Error).message}`);
  process.exit(1);
});
