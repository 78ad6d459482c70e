// Outbound traffic to hosts the mesh does not know (ProxyConfig.outboundTrafficPolicy):
// ALLOW_ANY forwards it in plain HTTP to the host and port the app named (Envoy's
// PassthroughCluster); REGISTRY_ONLY answers 502 (Envoy's BlackHoleCluster).

import type { DataPlane } from './data-plane.js';
import type { EndpointRef } from './balancer.js';
import { newEndpointStats } from './balancer.js';
import type { Exchange, ProxyResponse } from './exchange.js';
import { localResponse } from './exchange.js';
import { PEER_HEADER } from './peer.js';

/** `host:port` (default port 80; bracketed IPv6 allowed) or undefined when unusable. */
export function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(authority);
  if (!m) return undefined;
  const port = m[2] ? Number(m[2]) : 80;
  if (port < 1 || port > 65535) return undefined;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

export function unknownHostService(plane: DataPlane): (ex: Exchange) => Promise<ProxyResponse> {
  return (ex) => {
    const c = plane.current;
    if (!c) return Promise.resolve(localResponse(404, 'no route configuration yet\n', 'NR'));
    if (c.config.outboundTrafficPolicy === 'REGISTRY_ONLY') {
      return Promise.resolve(localResponse(502, 'outbound traffic to hosts outside the registry is blocked (REGISTRY_ONLY)\n', 'NR'));
    }
    const target = splitAuthority(ex.authority);
    if (!target) return Promise.resolve(localResponse(400, 'cannot pass through: bad authority\n'));
    const cluster = c.passthrough;
    const ref: EndpointRef = {
      key: `PassthroughCluster|${target.host}:${target.port}`,
      endpoint: { address: target.host, port: target.port, healthy: true },
      stats: newEndpointStats(),
      destination: { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: '' },
    };
    ex.cluster = cluster;
    ex.endpoint = ref;
    ex.attempts++;
    // Mesh metadata never leaves the mesh.
    delete ex.headers[PEER_HEADER];
    return plane.forwarder.service(ex);
  };
}
