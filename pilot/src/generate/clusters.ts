// Clusters: one per service port (`outbound|9080||host`), one per DestinationRule subset
// (`outbound|9080|v1|host`), with the rule's traffic policy (subset over port-level over
// top-level); and the sidecar's inbound clusters to its local app (`inbound|9080||`).
import {
  clusterName, protocolFromPortName, spiffeId,
  type Cluster, type ClusterTls, type ConnectionPoolConfig, type ConsistentHashConfig, type LbPolicy, type OutlierConfig,
  type Service, type ServicePort, type Subset, type TrafficPolicy,
} from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import type { PushContext, ResolvedDestinationRule } from '../model/push-context.js';
import { durationMs } from './duration.js';
import { inboundName } from './routes.js';

/** Istio's mesh-wide default connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

type Policy = Omit<TrafficPolicy, 'portLevelSettings'>;

function overlay(base: Policy, over: Policy | undefined): Policy {
  if (!over) return base;
  return {
    loadBalancer: over.loadBalancer ?? base.loadBalancer,
    connectionPool: over.connectionPool ?? base.connectionPool,
    outlierDetection: over.outlierDetection ?? base.outlierDetection,
    tls: over.tls ?? base.tls,
  };
}

function portLevel(p: TrafficPolicy | undefined, port: number): Policy | undefined {
  return Array.isArray(p?.portLevelSettings) ? p.portLevelSettings.find((s) => s?.port?.number === port) : undefined;
}

/** The policy in force for a port and optional subset. */
export function effectivePolicy(dr: ResolvedDestinationRule | undefined, port: number, subset?: Subset): Policy {
  const top = dr?.spec.trafficPolicy;
  let p = overlay(overlay({}, top), portLevel(top, port));
  if (subset) p = overlay(overlay(p, subset.trafficPolicy), portLevel(subset.trafficPolicy, port));
  return p;
}

function lbPolicy(p: Policy): { lbPolicy: LbPolicy; consistentHash?: ConsistentHashConfig } {
  const lb = p.loadBalancer;
  const ch = lb?.consistentHash;
  if (ch) {
    const out: ConsistentHashConfig = {};
    if (ch.httpHeaderName) out.header = ch.httpHeaderName.toLowerCase();
    if (ch.httpCookie?.name) {
      const ttl = durationMs(ch.httpCookie.ttl);
      out.cookie = { name: ch.httpCookie.name, ...(ch.httpCookie.path ? { path: ch.httpCookie.path } : {}), ...(ttl !== undefined ? { ttlMs: ttl } : {}) };
    }
    if (ch.useSourceIp) out.sourceIp = true;
    if (ch.httpQueryParameterName) out.queryParameter = ch.httpQueryParameterName;
    if (ch.minimumRingSize) out.minimumRingSize = ch.minimumRingSize;
    return { lbPolicy: 'ROUND_ROBIN', consistentHash: out };
  }
  switch (lb?.simple) {
    case 'LEAST_CONN': case 'LEAST_REQUEST': return { lbPolicy: 'LEAST_REQUEST' };
    case 'RANDOM': return { lbPolicy: 'RANDOM' };
    case 'PASSTHROUGH': return { lbPolicy: 'PASSTHROUGH' };
    default: return { lbPolicy: 'ROUND_ROBIN' };
  }
}

function connectionPool(p: Policy): ConnectionPoolConfig | undefined {
  const cp = p.connectionPool;
  if (!cp) return undefined;
  const out: ConnectionPoolConfig = {};
  if (cp.tcp?.maxConnections !== undefined) out.maxConnections = cp.tcp.maxConnections;
  const ct = durationMs(cp.tcp?.connectTimeout);
  if (ct !== undefined) out.connectTimeoutMs = ct;
  if (cp.http?.http1MaxPendingRequests !== undefined) out.maxPendingRequests = cp.http.http1MaxPendingRequests;
  if (cp.http?.http2MaxRequests !== undefined) out.maxRequests = cp.http.http2MaxRequests;
  if (cp.http?.maxRequestsPerConnection !== undefined) out.maxRequestsPerConnection = cp.http.maxRequestsPerConnection;
  if (cp.http?.maxRetries !== undefined) out.maxRetries = cp.http.maxRetries;
  const idle = durationMs(cp.http?.idleTimeout);
  if (idle !== undefined) out.idleTimeoutMs = idle;
  return Object.keys(out).length ? out : undefined;
}

/** Envoy's defaults fill whatever the rule leaves out. */
export function outlierConfig(p: Policy): OutlierConfig | undefined {
  const od = p.outlierDetection;
  if (!od) return undefined;
  const out: OutlierConfig = {
    consecutive5xx: od.consecutive5xxErrors ?? od.consecutiveErrors ?? 5,
    intervalMs: durationMs(od.interval) ?? 10_000,
    baseEjectionTimeMs: durationMs(od.baseEjectionTime) ?? 30_000,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
  if (od.consecutiveGatewayErrors !== undefined) out.consecutiveGatewayErrors = od.consecutiveGatewayErrors;
  return out;
}

/** mTLS to endpoints that have sidecars unless the rule says otherwise. */
function clusterTls(p: Policy, svc: Service, push: PushContext, port: number): ClusterTls {
  const instances = push.instances(svc.hostname).filter((i) => i.servicePort === port);
  const sans = [...new Set(instances.map((i) => spiffeId(i.namespace, i.serviceAccount)))].sort();
  const mode = p.tls?.mode;
  if (mode === 'DISABLE') return { mode: 'DISABLE' };
  if (mode === 'SIMPLE' || mode === 'MUTUAL') {
    const t = p.tls!;
    return {
      mode,
      ...(t.subjectAltNames?.length ? { subjectAltNames: t.subjectAltNames } : {}),
      ...(t.sni ? { sni: t.sni } : {}),
      ...(t.caCertificates ? { caCertificates: t.caCertificates } : {}),
      ...(mode === 'MUTUAL' && t.clientCertificate ? { clientCertificate: t.clientCertificate } : {}),
      ...(mode === 'MUTUAL' && t.privateKey ? { privateKey: t.privateKey } : {}),
    };
  }
  const sidecars = instances.some((i) => i.tlsMode === 'istio');
  if (mode === 'ISTIO_MUTUAL' || (sidecars && !svc.meshExternal)) return { mode: 'ISTIO_MUTUAL', subjectAltNames: sans };
  return { mode: 'DISABLE' };
}

function outboundCluster(push: PushContext, svc: Service, port: ServicePort, dr: ResolvedDestinationRule | undefined, subset?: Subset): Cluster {
  const p = effectivePolicy(dr, port.port, subset);
  const cp = connectionPool(p);
  const od = outlierConfig(p);
  return {
    name: clusterName('outbound', port.port, subset?.name ?? '', svc.hostname),
    type: 'EDS',
    service: svc.hostname,
    port: port.port,
    ...(subset ? { subset: subset.name } : {}),
    protocol: port.protocol,
    ...lbPolicy(p),
    connectTimeoutMs: cp?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    tls: clusterTls(p, svc, push, port.port),
    ...(od ? { outlier: od } : {}),
    ...(cp ? { connectionPool: cp } : {}),
    ...(dr ? { destinationRule: dr.key } : {}),
  };
}

export function subsetsOf(dr: ResolvedDestinationRule | undefined): Subset[] {
  return (dr?.spec.subsets ?? []).filter((s): s is Subset => !!s && typeof s.name === 'string' && s.name !== '');
}

/** `visible`: the proxy's Sidecar scope (every service when absent). */
export function buildOutboundClusters(push: PushContext, visible: (svc: Service) => boolean = () => true): Cluster[] {
  const out: Cluster[] = [];
  for (const svc of push.services.values()) {
    if (!visible(svc)) continue;
    const dr = push.destinationRule(svc.hostname);
    for (const port of svc.ports) {
      out.push(outboundCluster(push, svc, port, dr));
      for (const subset of subsetsOf(dr)) out.push(outboundCluster(push, svc, port, dr, subset));
    }
  }
  return out;
}

/** Sidecars that back a service: one static cluster per workload port to the local app. */
export function buildInboundClusters(proxy: ProxyDescription): Cluster[] {
  if (proxy.kind !== 'sidecar') return [];
  return proxy.workload.ports.map((p) => ({
    name: inboundName(p.port),
    type: 'STATIC',
    port: p.port,
    protocol: p.protocol ?? protocolFromPortName(p.name, 'HTTP'),
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    tls: { mode: 'DISABLE' },
  }));
}
