// Gateway proxies: the Gateways whose selector matches the proxy's labels give listeners
// per server port; the VirtualServices bound to those Gateways give each port's routes.
import type { GatewayServer, GatewayTlsServer, Listener, Protocol, RouteConfiguration, VirtualHost } from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import { hostMatches, type PushContext } from '../model/push-context.js';
import { labelsMatch } from './endpoints.js';
import { translateVirtualService, type RouteContext } from './routes.js';

function serverProtocol(raw: string | undefined): Protocol {
  const p = (raw ?? 'HTTP').toUpperCase();
  return (['HTTP', 'HTTP2', 'GRPC', 'TCP', 'TLS', 'HTTPS'] as const).find((x) => x === p) ?? 'HTTP';
}

function routedByHttp(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'HTTPS';
}

/** Newer Istio lets a server host carry a namespace (`ns/host`); the host part is what matches. */
function serverHost(h: string): string {
  const slash = h.indexOf('/');
  return (slash >= 0 ? h.slice(slash + 1) : h).toLowerCase();
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
}

/** A server's TLS termination as the gateway proxy reads it (paths and names only). Modes
 *  other than SIMPLE and MUTUAL (PASSTHROUGH, AUTO_PASSTHROUGH, ISTIO_MUTUAL) are not
 *  terminated here: undefined. */
export function serverTls(server: GatewayServer, hosts: string[]): GatewayTlsServer | undefined {
  const t = server.tls;
  if (!t || typeof t !== 'object') return undefined;
  const mode = String(t.mode ?? '').toUpperCase();
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return undefined;
  const out: GatewayTlsServer = { hosts, mode };
  for (const k of ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName', 'minProtocolVersion', 'maxProtocolVersion'] as const) {
    const v = str(t[k]);
    if (v) out[k] = v;
  }
  const sans = Array.isArray(t.subjectAltNames) ? t.subjectAltNames.filter((x): x is string => typeof x === 'string') : [];
  if (sans.length) out.subjectAltNames = sans;
  return out;
}

function vsHostOnServer(vsHost: string, serverHosts: readonly string[]): boolean {
  return serverHosts.some((s) => vsHost === '*' || hostMatches(s, vsHost) || hostMatches(vsHost, s));
}

export function buildGatewayConfig(push: PushContext, proxy: ProxyDescription): { listeners: Listener[]; routes: RouteConfiguration[] } {
  if (proxy.kind !== 'gateway') return { listeners: [], routes: [] };
  const byPort = new Map<number, { protocol: Protocol; hosts: Set<string>; gateways: Set<string>; tls: GatewayTlsServer[]; redirect: Set<string> }>();
  for (const gw of push.gateways) {
    // A Gateway with no selector applies to every gateway proxy.
    if (!labelsMatch(gw.spec.selector, proxy.workload.labels)) continue;
    for (const server of gw.spec.servers) {
      const port = server?.port?.number;
      if (typeof port !== 'number') continue;
      const entry = byPort.get(port) ?? { protocol: serverProtocol(server.port.protocol), hosts: new Set<string>(), gateways: new Set<string>(), tls: [], redirect: new Set<string>() };
      const hosts = (Array.isArray(server.hosts) ? server.hosts : []).filter((h): h is string => typeof h === 'string').map(serverHost);
      for (const h of hosts) entry.hosts.add(h);
      entry.gateways.add(gw.key);
      const protocol = serverProtocol(server.port.protocol);
      if (protocol === 'HTTPS') {
        const tls = serverTls(server, hosts);
        if (tls) entry.tls.push(tls);
      } else if (server.tls && typeof server.tls === 'object' && server.tls.httpsRedirect === true) {
        for (const h of hosts) entry.redirect.add(h);
      }
      byPort.set(port, entry);
    }
  }
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  for (const [port, entry] of [...byPort.entries()].sort(([a], [b]) => a - b)) {
    const http = routedByHttp(entry.protocol);
    // An HTTPS port whose servers terminate nothing here (PASSTHROUGH, ISTIO_MUTUAL) is not
    // served in plain text instead: no listener (galley's Gateway checks say why).
    if (entry.protocol === 'HTTPS' && !entry.tls.length) continue;
    const routeConfig = `http.${port}`;
    listeners.push({
      name: `0.0.0.0_${port}`, kind: 'gateway', port, protocol: entry.protocol,
      ...(http ? { routeConfig } : {}),
      hosts: [...entry.hosts].sort(),
      ...(entry.protocol === 'HTTPS' ? { tls: entry.tls } : {}),
      ...(entry.protocol !== 'HTTPS' && entry.redirect.size ? { httpsRedirectHosts: [...entry.redirect].sort() } : {}),
    });
    if (!http) continue;
    const ctx: RouteContext = { gateways: entry.gateways, proxyLabels: proxy.workload.labels, proxyNamespace: proxy.workload.namespace, port };
    const serverHosts = [...entry.hosts];
    const vhosts = new Map<string, VirtualHost>();
    const seen = new Set<string>();
    for (const g of entry.gateways) {
      for (const vs of push.virtualServicesForGateway(g)) {
        if (seen.has(vs.key)) continue;
        seen.add(vs.key);
        const vsRoutes = translateVirtualService(vs, push, ctx);
        for (const host of new Set(vs.hosts)) {
          if (!vsHostOnServer(host, serverHosts)) continue;
          const name = `${host}:${port}`;
          const vh = vhosts.get(name) ?? { name, domains: host === '*' ? ['*'] : [host, `${host}:${port}`], routes: [] };
          vh.routes.push(...vsRoutes);
          vhosts.set(name, vh);
        }
      }
    }
    routes.push({ name: routeConfig, virtualHosts: [...vhosts.values()].sort((a, b) => a.name.localeCompare(b.name)) });
  }
  return { listeners, routes };
}
