// generateProxyConfig: (PushContext, proxy) -> ProxyConfig, a pure function assembled from
// one builder per concern. Output is sorted so equal inputs give byte-equal config.
import { clusterName, parseClusterName, type Cluster, type Listener, type ClusterLoadAssignment, type ProxyConfig, type RouteConfiguration } from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import type { PushContext } from '../model/push-context.js';
import { buildInboundClusters, buildOutboundClusters } from './clusters.js';
import { buildInboundEndpoints, buildOutboundEndpoints } from './endpoints.js';
import { buildGatewayConfig } from './gateway.js';
import { buildSidecarListeners, buildTcpListeners } from './listeners.js';
import { buildInboundRoutes, buildOutboundRoutes } from './routes.js';
import { proxyScope, type ProxyScope } from './scope.js';
import { applyAutoMtls, buildInboundPolicy } from './security.js';

// Outbound clusters and endpoints are the same for every proxy of a push with the same
// Sidecar scope: build them once per (push, scope).
const outboundCache = new WeakMap<PushContext, Map<string, { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] }>>();

function outbound(push: PushContext, scope: ProxyScope): { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] } {
  let byScope = outboundCache.get(push);
  if (!byScope) outboundCache.set(push, byScope = new Map());
  let hit = byScope.get(scope.key);
  if (!hit) {
    const clusters = applyAutoMtls(push, buildOutboundClusters(push, scope.visible));
    hit = { clusters, endpoints: buildOutboundEndpoints(push, clusters) };
    byScope.set(scope.key, hit);
  }
  return hit;
}

/** Clusters routes name that the scope left out (a VirtualService of a visible host may send
 *  to a host outside the Sidecar's egress): added, so the config stays self-consistent. */
function withRouteTargets(push: PushContext, routes: RouteConfiguration[], have: { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] }) {
  const names = new Set(have.clusters.map((c) => c.name));
  const missing = new Set<string>();
  for (const rc of routes) for (const vh of rc.virtualHosts) for (const r of vh.routes) {
    const a = r.action;
    if (a.kind !== 'route') continue;
    for (const c of a.clusters) if (!names.has(c.name)) missing.add(c.name);
    if (a.mirror && !names.has(a.mirror.cluster)) missing.add(a.mirror.cluster);
  }
  if (!missing.size) return have;
  const all = outbound(push, { key: '*', visible: () => true, outboundTrafficPolicy: 'ALLOW_ANY' });
  const found = all.clusters.filter((c) => missing.has(c.name));
  for (const c of found) missing.delete(c.name);
  // A host the registry does not know (yet: its workload may still be starting) gets an empty
  // cluster, so the route answers 503 "no healthy upstream" (UH) instead of the whole config
  // being NACKed for a dangling reference.
  const empty = [...missing].filter((name) => name.startsWith('outbound|')).map((name) => emptyCluster(name));
  return {
    clusters: [...have.clusters, ...found, ...empty],
    endpoints: [...have.endpoints, ...all.endpoints.filter((e) => found.some((c) => c.name === e.cluster)), ...empty.map((c) => ({ cluster: c.name, endpoints: [] }))],
  };
}

function emptyCluster(name: string): Cluster {
  const parsed = parseClusterName(name);
  return {
    name, type: 'EDS', service: parsed?.hostname, port: parsed?.port, subset: parsed?.subset || undefined,
    protocol: 'HTTP', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 10_000, tls: { mode: 'DISABLE' },
  };
}

/** TCP listeners name only clusters the config carries: a `tcp` route to a host outside the
 *  proxy's scope falls back to the service port's own cluster (never a dangling reference). */
function tcpListenersWithin(listeners: Listener[], clusters: Cluster[]): Listener[] {
  const names = new Set(clusters.map((c) => c.name));
  return listeners.map((l) => {
    const weighted = l.weightedClusters?.filter((w) => names.has(w.name));
    const first = weighted?.[0]?.name ?? (l.cluster && names.has(l.cluster) ? l.cluster : undefined);
    const fallback = l.service ? clusterName('outbound', l.port, '', l.service) : l.cluster;
    const { weightedClusters: _dropped, ...rest } = l;
    return { ...rest, cluster: first ?? fallback, ...(weighted && weighted.length > 1 ? { weightedClusters: weighted } : {}) };
  }).filter((l) => l.cluster !== undefined && names.has(l.cluster));
}

export function generateProxyConfig(push: PushContext, proxy: ProxyDescription): ProxyConfig {
  const scope = proxyScope(push, proxy, push.mesh.outboundTrafficPolicy);
  const sidecar = proxy.kind === 'sidecar';
  const gateway = buildGatewayConfig(push, proxy);
  const routes = sidecar ? [...buildOutboundRoutes(push, proxy, scope.visible), ...buildInboundRoutes(proxy)] : gateway.routes;
  const shared = withRouteTargets(push, routes, outbound(push, scope));
  const clusters = [...shared.clusters, ...buildInboundClusters(proxy)];
  const endpoints = [...shared.endpoints, ...buildInboundEndpoints(proxy)];
  const listeners = sidecar ? [...buildSidecarListeners(proxy), ...tcpListenersWithin(buildTcpListeners(push, proxy, scope.visible), clusters)] : gateway.listeners;
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  const inboundPolicy = buildInboundPolicy(push, proxy);
  // The inbound listener shows the workload-wide mode (`meshctl proxy-config listener`).
  const shown = inboundPolicy ? listeners.map((l) => (l.kind === 'inbound' ? { ...l, mtlsMode: inboundPolicy.mtls.mode } : l)) : listeners;
  return {
    node: {
      id: proxy.proxyId,
      kind: proxy.kind,
      workload: proxy.workload.name,
      namespace: proxy.workload.namespace,
      serviceAccount: proxy.workload.serviceAccount,
      labels: { ...proxy.workload.labels },
    },
    listeners: shown.sort(byName),
    routes: routes.sort(byName),
    clusters: clusters.sort(byName),
    endpoints: endpoints.sort((a, b) => a.cluster.localeCompare(b.cluster)),
    outboundTrafficPolicy: scope.outboundTrafficPolicy,
    ...(inboundPolicy ? { inboundPolicy } : {}),
  };
}

export { buildPushContext, PushContext } from '../model/push-context.js';
