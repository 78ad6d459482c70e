// Endpoints (ClusterLoadAssignment) per cluster: the healthy instances of the service on
// the cluster's port, narrowed to the subset's labels; inbound clusters point at the app.
import { spiffeId, type Cluster, type ClusterLoadAssignment, type Endpoint } from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import type { PushContext } from '../model/push-context.js';
import { subsetsOf } from './clusters.js';
import { inboundName } from './routes.js';

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector ?? {})) if (labels[k] !== v) return false;
  return true;
}

export function buildOutboundEndpoints(push: PushContext, clusters: readonly Cluster[]): ClusterLoadAssignment[] {
  const out: ClusterLoadAssignment[] = [];
  for (const c of clusters) {
    if (c.type !== 'EDS' || !c.service || c.port === undefined) continue;
    const subset = c.subset ? subsetsOf(push.destinationRule(c.service)).find((s) => s.name === c.subset) : undefined;
    const endpoints: Endpoint[] = push.instances(c.service)
      .filter((i) => i.servicePort === c.port && i.healthy && labelsMatch(subset?.labels, i.labels))
      .map((i) => ({
        address: i.address,
        port: i.port,
        labels: i.labels,
        workload: i.workload,
        identity: spiffeId(i.namespace, i.serviceAccount),
        healthy: true,
      }))
      .sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port);
    out.push({ cluster: c.name, endpoints });
  }
  return out;
}

export function buildInboundEndpoints(proxy: ProxyDescription): ClusterLoadAssignment[] {
  if (proxy.kind !== 'sidecar') return [];
  return proxy.workload.ports.map((p) => ({
    cluster: inboundName(p.port),
    endpoints: [{ address: '127.0.0.1', port: p.targetPort, workload: proxy.workload.name, healthy: true }],
  }));
}
