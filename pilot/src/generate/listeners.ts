// Sidecar listeners: the explicit/captured outbound listener, the mTLS inbound listener for
// sidecars whose workload serves ports, and one outbound TCP listener per TCP service port.
import { clusterName, ports, type Listener, type Service } from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import { MESH_GATEWAY, type PushContext } from '../model/push-context.js';
import { destinationCluster } from './routes.js';

export function buildSidecarListeners(proxy: ProxyDescription): Listener[] {
  if (proxy.kind !== 'sidecar') return [];
  const out: Listener[] = [];
  if (proxy.workload.ports.length > 0) {
    // Later issues derive the mode from PeerAuthentication; STRICT until then.
    out.push({ name: 'virtualInbound', kind: 'inbound', port: proxy.inbound.port, protocol: 'HTTP', mtlsMode: 'STRICT' });
  }
  out.push({ name: 'virtualOutbound', kind: 'outbound', port: proxy.outbound?.port ?? ports.proxyOutbound, protocol: 'HTTP' });
  return out;
}

/** `tcp-echo.default.svc.cluster.local_9000`: Istio names TCP listeners `<VIP>_<port>`; the
 *  mesh has no service VIPs, so the hostname stands in for it. */
export function tcpListenerName(hostname: string, port: number): string {
  return `${hostname}_${port}`;
}

/** The first VirtualService `tcp` route that applies to this proxy and port, as weighted
 *  clusters; undefined: the service port's own cluster. */
function tcpRoute(push: PushContext, proxy: ProxyDescription, hostname: string, port: number): { name: string; weight: number }[] | undefined {
  for (const vs of push.virtualServicesForHost(hostname)) {
    for (const r of Array.isArray(vs.spec.tcp) ? vs.spec.tcp : []) {
      const matches = Array.isArray(r?.match) && r.match.length ? r.match : [undefined];
      const applies = matches.some((m) => {
        if (!m) return true;
        if (m.port !== undefined && m.port !== port) return false;
        if (Array.isArray(m.gateways) && m.gateways.length && !m.gateways.includes(MESH_GATEWAY)) return false;
        return Object.entries(m.sourceLabels ?? {}).every(([k, v]) => proxy.workload.labels[k] === v);
      });
      if (!applies) continue;
      const dests = (Array.isArray(r.route) ? r.route : []).filter((d) => d?.destination?.host);
      if (!dests.length) continue;
      const anyWeight = dests.some((d) => typeof d.weight === 'number');
      return dests.map((d) => ({
        name: destinationCluster(d.destination, vs.namespace, push, port),
        weight: anyWeight ? (d.weight ?? 0) : Math.floor(100 / dests.length),
      }));
    }
  }
  return undefined;
}

/** Sidecar outbound TCP: one listener per visible TCP service port (protocol TCP, or a
 *  `tcp-`/`mongo-`/`redis-`/`mysql-` port name), forwarding to the port's cluster or to the
 *  destinations of a VirtualService `tcp` route. The sidecar serves them on loopback ports the
 *  app is told about (MESH_TCP_UPSTREAMS) or that capture redirects to. */
export function buildTcpListeners(push: PushContext, proxy: ProxyDescription, visible: (svc: Service) => boolean = () => true): Listener[] {
  if (proxy.kind !== 'sidecar') return [];
  const out: Listener[] = [];
  for (const svc of push.services.values()) {
    if (!visible(svc)) continue;
    for (const p of svc.ports) {
      if (p.protocol !== 'TCP') continue;
      const weighted = tcpRoute(push, proxy, svc.hostname, p.port);
      const l: Listener = {
        name: tcpListenerName(svc.hostname, p.port),
        kind: 'outbound',
        port: p.port,
        protocol: 'TCP',
        cluster: weighted?.[0]?.name ?? clusterName('outbound', p.port, '', svc.hostname),
        service: svc.hostname,
      };
      if (weighted && weighted.length > 1) l.weightedClusters = weighted;
      out.push(l);
    }
  }
  return out;
}
