// generateProxyConfig: (PushContext, proxy) -> ProxyConfig, a pure function assembled from
// one builder per concern. Output is sorted so equal inputs give byte-equal config.
import type { Cluster, ClusterLoadAssignment, ProxyConfig } from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import type { PushContext } from '../model/push-context.js';
import { buildInboundClusters, buildOutboundClusters } from './clusters.js';
import { buildInboundEndpoints, buildOutboundEndpoints } from './endpoints.js';
import { buildGatewayConfig } from './gateway.js';
import { buildSidecarListeners } from './listeners.js';
import { buildInboundRoutes, buildOutboundRoutes } from './routes.js';

// Outbound clusters and endpoints are the same for every proxy of a push: build them once.
// (Without Sidecar scoping; later scoping keys this by the proxy's scope as well.)
const outboundCache = new WeakMap<PushContext, { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] }>();

function outbound(push: PushContext): { clusters: Cluster[]; endpoints: ClusterLoadAssignment[] } {
  let hit = outboundCache.get(push);
  if (!hit) {
    const clusters = buildOutboundClusters(push);
    hit = { clusters, endpoints: buildOutboundEndpoints(push, clusters) };
    outboundCache.set(push, hit);
  }
  return hit;
}

export function generateProxyConfig(push: PushContext, proxy: ProxyDescription): ProxyConfig {
  const shared = outbound(push);
  const sidecar = proxy.kind === 'sidecar';
  const gateway = buildGatewayConfig(push, proxy);
  const clusters = [...shared.clusters, ...buildInboundClusters(proxy)];
  const endpoints = [...shared.endpoints, ...buildInboundEndpoints(proxy)];
  const routes = sidecar ? [...buildOutboundRoutes(push, proxy), ...buildInboundRoutes(proxy)] : gateway.routes;
  const listeners = sidecar ? buildSidecarListeners(proxy) : gateway.listeners;
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  return {
    node: {
      id: proxy.proxyId,
      kind: proxy.kind,
      workload: proxy.workload.name,
      namespace: proxy.workload.namespace,
      serviceAccount: proxy.workload.serviceAccount,
      labels: { ...proxy.workload.labels },
    },
    listeners: listeners.sort(byName),
    routes: routes.sort(byName),
    clusters: clusters.sort(byName),
    endpoints: endpoints.sort((a, b) => a.cluster.localeCompare(b.cluster)),
    outboundTrafficPolicy: 'ALLOW_ANY',
  };
}

export { buildPushContext, PushContext } from '../model/push-context.js';
