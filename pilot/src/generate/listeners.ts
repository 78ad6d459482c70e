// Sidecar listeners: the explicit/captured outbound listener, and the mTLS inbound
// listener for sidecars whose workload serves ports.
import { ports, type Listener } from '#api';
import type { ProxyDescription } from '../model/proxies.js';

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
