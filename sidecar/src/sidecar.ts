// Assembles one proxy from its parts (no env reading here: main.ts does that, tests pass
// values): telemetry -> data plane -> listeners -> config client -> admin. Start and stop in
// that order and in reverse.

import type { Logger } from 'pino';
import { subjects, type Bus, type ProxyAnnouncement } from '#api';
import { buildAdmin, type AdminApp } from './admin.js';
import { DataPlane } from './data-plane.js';
import { GatewayListeners } from './gateway.js';
import { startInbound } from './inbound.js';
import type { ListeningServer } from './listen.js';
import { lazyProxyMetrics } from './metrics-lazy.js';
import { startOutbound } from './outbound.js';
import { TelemetryReporter } from './telemetry.js';
import { PolicyClient } from './policy/check-client.js';
import type { IdentitySource } from './tls-identity.js';
import type { WorkloadSpec } from './workload.js';
import { ConfigClient } from './xds.js';
import { TcpOutbound, type TcpUpstream } from './tcp/outbound.js';

export interface SidecarOptions {
  workload: WorkloadSpec;
  bus: Bus;
  identity: IdentitySource;
  log: Logger;
  inbound: { bind: string; port: number; advertise: string };
  outbound: { bind: string; port: number };
  /** Admin port on 127.0.0.1; undefined: no admin listener. */
  adminPort?: number;
  gatewayBind: string;
  /** Gateway: where credentialName and relative certificate paths are looked up. */
  gatewayCredentialDir?: string;
  register: boolean;
  heartbeatMs: number;
  reportBatchMs: number;
  reportBuffer: number;
  announceBackoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  /** Mixer policy checks; absent: none. */
  policy?: { failOpen: boolean; timeoutMs: number; cacheSize: number; retryAfterMs: number; clientSide: boolean };
  /** TCP services the app reaches through loopback ports (MESH_TCP_UPSTREAMS, tcp/outbound.ts). */
  tcpUpstreams?: TcpUpstream[];
  /** The proxy logged in to the bus: speak on its scoped subjects (see xds.ts). */
  busScoped?: boolean;
}

export interface Sidecar {
  plane: DataPlane;
  xds: ConfigClient;
  gateways?: GatewayListeners;
  telemetry: TelemetryReporter;
  policy?: PolicyClient;
  /** Bound ports (listeners given port 0 get a free one). */
  ports: { inbound?: number; outbound?: number; admin?: number; tcp?: Record<string, number> };
  /** TCP upstream listeners, when any are declared. */
  tcp?: TcpOutbound;
  announcement(): ProxyAnnouncement;
  /** Sockets open on each listener (WebSocket tunnels and TCP streams included), for leak checks. */
  connections(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startSidecar(o: SidecarOptions): Promise<Sidecar> {
  const w = o.workload;
  const startedAt = new Date().toISOString();
  const policy = o.policy
    ? new PolicyClient({ bus: o.bus, failOpen: o.policy.failOpen, timeoutMs: o.policy.timeoutMs, cacheSize: o.policy.cacheSize, retryAfterMs: o.policy.retryAfterMs, log: o.log })
    : undefined;
  const telemetry = new TelemetryReporter({
    proxyId: w.proxyId,
    publish: (batch) => o.bus.publish(subjects.telemetryReport, batch),
    ...(policy ? { checkCacheCounts: () => policy.takeCounts() } : {}),
    batchMs: o.reportBatchMs,
    bufferSize: o.reportBuffer,
    log: o.log,
  });
  const plane = new DataPlane({ workload: w, identity: o.identity, telemetry, log: o.log, ...(o.random ? { random: o.random } : {}) });
  if (policy) {
    plane.policy = policy;
    plane.policyClientSide = o.policy!.clientSide;
    policy.start();
  }

  const listeners: ListeningServer[] = [];
  const named = new Map<string, ListeningServer>();
  const ports: Sidecar['ports'] = {};
  let gateways: GatewayListeners | undefined;
  let admin: AdminApp | undefined;
  let tcp: TcpOutbound | undefined;
  const closeAll = async () => {
    await gateways?.close();
    await tcp?.close();
    await Promise.all(listeners.map((l) => l.close()));
  };

  try {
    if (w.kind === 'gateway') {
      const g = new GatewayListeners(plane, o.gatewayBind, w.gatewayPortMap, o.gatewayCredentialDir);
      gateways = g;
      plane.addApplyHooks({ prepare: (next) => g.prepare(next), commit: (next) => g.commit(next) });
    } else {
      const inbound = await startInbound(plane, o.inbound.bind, o.inbound.port);
      listeners.push(inbound);
      named.set('inbound', inbound);
      ports.inbound = inbound.port;
      const outbound = await startOutbound(plane, o.outbound.bind, o.outbound.port);
      listeners.push(outbound);
      named.set('outbound', outbound);
      ports.outbound = outbound.port;
      plane.outboundAddress = { host: o.outbound.bind === '0.0.0.0' ? '127.0.0.1' : o.outbound.bind, port: outbound.port };
      if (o.tcpUpstreams?.length) {
        tcp = new TcpOutbound(plane, o.random);
        ports.tcp = await tcp.start(o.tcpUpstreams);
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const announcement = (): ProxyAnnouncement => ({
    proxyId: w.proxyId,
    kind: w.kind,
    workload: { name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount, labels: w.labels, services: w.services, ports: w.ports },
    inbound: { address: o.inbound.advertise, port: ports.inbound ?? 0 },
    ...(ports.outbound !== undefined ? { outbound: { address: o.outbound.bind, port: ports.outbound } } : {}),
    ...(ports.admin !== undefined ? { admin: { address: '127.0.0.1', port: ports.admin } } : {}),
    register: o.register,
    ...(plane.status.version ? { servingVersion: plane.status.version } : {}),
    startedAt,
  });

  const xds = new ConfigClient({
    bus: o.bus,
    proxyId: w.proxyId,
    announcement,
    servingVersion: () => plane.status.version,
    apply: async (push) => { await plane.apply(push.config, push.version); },
    heartbeatMs: o.heartbeatMs,
    log: o.log,
    ...(o.announceBackoff ? { announceBackoff: o.announceBackoff } : {}),
    ...(o.busScoped ? { scope: { namespace: w.namespace, serviceAccount: w.serviceAccount, workload: w.name, proxyId: w.proxyId } } : {}),
  });

  try {
    if (o.adminPort !== undefined) {
      const metrics = lazyProxyMetrics(plane);
      admin = buildAdmin({
        plane, xds, metrics,
        ...(gateways ? { gateways } : {}),
        listeners: () => ({
          ...(ports.inbound !== undefined ? { inbound: { address: o.inbound.bind, port: ports.inbound } } : {}),
          ...(ports.outbound !== undefined ? { outbound: { address: o.outbound.bind, port: ports.outbound } } : {}),
          ...(ports.admin !== undefined ? { admin: { address: '127.0.0.1', port: ports.admin } } : {}),
        }),
        setLogLevel: (level) => { o.log.level = level; },
      });
      await admin.listen({ host: '127.0.0.1', port: o.adminPort });
      const addr = admin.server.address();
      ports.admin = typeof addr === 'object' && addr ? addr.port : o.adminPort;
    }
    telemetry.start();
    await xds.start();
  } catch (err) {
    await xds.stop().catch(() => {});
    policy?.stop();
    await admin?.close();
    await closeAll();
    telemetry.stop();
    plane.close();
    throw err;
  }

  return {
    plane, xds, telemetry, ports, announcement,
    ...(tcp ? { tcp } : {}),
    async connections() {
      const out: Record<string, number> = {};
      for (const [name, l] of named) {
        out[name] = await new Promise<number>((resolve) => l.server.getConnections((err, n) => resolve(err ? -1 : n)));
      }
      if (tcp) out.tcp = await tcp.connections();
      return out;
    },
    ...(gateways ? { gateways } : {}),
    ...(policy ? { policy } : {}),
    async stop() {
      policy?.stop();
      await xds.stop();
      await closeAll();
      telemetry.stop();
      await o.bus.flush().catch(() => {});
      await admin?.close();
      plane.close();
    },
  };
}
