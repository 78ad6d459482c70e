// `meshctl proxy-config cluster|listener|route|endpoint|all <proxy>`: the config pilot sent a
// proxy, with istioctl's columns. Reads pilot's /debug/config_dump; the proxy may be named by
// its full id, its id without namespace, or its workload when that is unambiguous.

import type { Cluster, ClusterLoadAssignment, Listener, ProxyConfig, RouteConfiguration, StringMatcher } from '#api';
import { parseClusterName } from '#api';
import { getJson } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';
import { fetchProxyStatus } from './proxy-status.js';

export type ConfigSection = 'cluster' | 'listener' | 'route' | 'endpoint' | 'all';

export async function resolveProxy(ep: Endpoints, name: string): Promise<string> {
  const list = await fetchProxyStatus(ep);
  const exact = list.find((p) => p.proxy === name || p.proxy === `${name}.default`);
  if (exact) return exact.proxy;
  const byWorkload = list.filter((p) => p.workload === name || p.proxy.startsWith(`${name}-`));
  if (byWorkload.length === 1) return byWorkload[0]!.proxy;
  if (byWorkload.length > 1) throw new Error(`${name} names ${byWorkload.length} proxies: ${byWorkload.map((p) => p.proxy).join(', ')}`);
  throw new Error(`no proxy named ${name}; \`meshctl proxy-status\` lists them`);
}

export async function fetchProxyConfig(ep: Endpoints, proxy: string): Promise<{ version?: string; config: ProxyConfig }> {
  const id = await resolveProxy(ep, proxy);
  const { status, body } = await getJson<{ version?: string; config?: ProxyConfig; message?: string }>('pilot', `${ep.pilot}/debug/config_dump?proxyID=${encodeURIComponent(id)}`);
  if (status !== 200 || !body.config) throw new Error(`pilot has no config for ${id}${body.message ? `: ${body.message}` : ''}`);
  return { version: body.version, config: body.config };
}

const matcher = (m: StringMatcher | undefined): string => {
  if (!m) return '/*';
  if ('exact' in m) return m.exact;
  if ('prefix' in m) return `${m.prefix}*`;
  return `~${m.regex}`;
};

export function clusterRows(clusters: Cluster[]): string[][] {
  return clusters.map((c) => {
    const n = parseClusterName(c.name);
    return [n?.hostname || c.service || c.name, String(n?.port ?? c.port ?? '-'), n?.subset || '-', n?.direction ?? '-', c.type, c.tls.mode];
  });
}

export function listenerRows(listeners: Listener[]): string[][] {
  return listeners.map((l) => ['0.0.0.0', String(l.port), l.kind === 'inbound' ? `mTLS ${l.mtlsMode ?? ''}`.trim() : l.protocol,
    l.routeConfig ? `Route: ${l.routeConfig}` : l.cluster ? `Cluster: ${l.cluster}` : l.kind === 'outbound' ? 'Route: by destination port' : '-']);
}

export function routeRows(routes: RouteConfiguration[]): string[][] {
  const rows: string[][] = [];
  for (const rc of routes) {
    for (const vh of rc.virtualHosts) {
      const domains = vh.domains.length > 2 ? `${vh.domains[0]} +${vh.domains.length - 1} more` : vh.domains.join(', ');
      for (const r of vh.routes) {
        const headers = (r.match.headers ?? []).map((h) => `${h.name}${h.invert ? '!' : ''}=${matcher(h.match)}`).join(' ');
        rows.push([rc.name, vh.name, domains, `${matcher(r.match.path)}${headers ? ` ${headers}` : ''}`, r.origin?.virtualService ?? '-']);
      }
    }
  }
  return rows;
}

export function endpointRows(assignments: ClusterLoadAssignment[]): string[][] {
  return assignments.flatMap((a) => a.endpoints.map((e) => [`${e.address}:${e.port}`, e.healthy ? 'HEALTHY' : 'UNHEALTHY', a.cluster]));
}

export function formatProxyConfig(section: ConfigSection, cfg: ProxyConfig, format: OutputFormat): string {
  const data = section === 'cluster' ? cfg.clusters : section === 'listener' ? cfg.listeners : section === 'route' ? cfg.routes : section === 'endpoint' ? cfg.endpoints : cfg;
  return render(format, data, () => {
    const parts: string[] = [];
    if (section === 'cluster' || section === 'all') parts.push(table(['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'TLS'], clusterRows(cfg.clusters)));
    if (section === 'listener' || section === 'all') parts.push(table(['ADDRESS', 'PORT', 'MATCH', 'DESTINATION'], listenerRows(cfg.listeners)));
    if (section === 'route' || section === 'all') parts.push(table(['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], routeRows(cfg.routes)));
    if (section === 'endpoint' || section === 'all') parts.push(table(['ENDPOINT', 'STATUS', 'CLUSTER'], endpointRows(cfg.endpoints)));
    return parts.join('\n');
  }, () => lines([
    // One name per line: what scripts grep for.
    ...(section === 'cluster' || section === 'all' ? cfg.clusters.map((c) => c.name) : []),
    ...(section === 'listener' || section === 'all' ? cfg.listeners.map((l) => `${l.name} ${l.port}`) : []),
    ...(section === 'route' || section === 'all' ? cfg.routes.map((r) => r.name) : []),
    ...(section === 'endpoint' || section === 'all' ? cfg.endpoints.flatMap((a) => a.endpoints.map((e) => `${e.address}:${e.port} ${a.cluster}`)) : []),
  ]));
}
