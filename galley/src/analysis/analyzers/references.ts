// Helpers for analyzers that follow references between resources (hosts, gateways).

import { fqdn, type Resource, type VirtualServiceSpec } from '#api';
import type { AnalysisContext } from '../context.js';

/** Every destination a VirtualService names, with the field that names it. */
export function virtualServiceDestinations(vs: Resource): { host: string; subset?: string; port?: number; field: string }[] {
  const spec = vs.spec as VirtualServiceSpec;
  const out: { host: string; subset?: string; port?: number; field: string }[] = [];
  const add = (d: unknown, field: string) => {
    if (d && typeof d === 'object' && typeof (d as { host?: unknown }).host === 'string') {
      const { host, subset, port } = d as { host: string; subset?: unknown; port?: { number?: unknown } };
      const n = port && typeof port === 'object' && typeof port.number === 'number' ? port.number : undefined;
      out.push({ host, ...(typeof subset === 'string' ? { subset } : {}), ...(n !== undefined ? { port: n } : {}), field });
    }
  };
  for (const kind of ['http', 'tcp', 'tls'] as const) {
    const routes = spec[kind];
    if (!Array.isArray(routes)) continue;
    routes.forEach((r, i) => {
      const route = (r as { route?: unknown }).route;
      if (Array.isArray(route)) route.forEach((d, j) => add((d as { destination?: unknown })?.destination, `spec.${kind}[${i}].route[${j}].destination`));
      if (kind === 'http') add((r as { mirror?: unknown }).mirror, `spec.http[${i}].mirror`);
    });
  }
  return out;
}

/** Does a host pattern (possibly `*.example.com` or `*`) cover a host? Both fully qualified. */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === host || pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return false;
}

/** `bookinfo-gateway`, `default/bookinfo-gateway`, `bookinfo-gateway.default.svc.cluster.local` -> `ns/name`. */
export function gatewayKey(ref: string, namespace: string): string {
  if (ref.includes('/')) return ref;
  const dot = ref.indexOf('.');
  if (dot > 0) return `${ref.slice(dot + 1).split('.')[0]}/${ref.slice(0, dot)}`;
  return `${namespace}/${ref}`;
}

export function hostKey(host: string, namespace: string): string {
  return fqdn(host, namespace);
}

export interface ServicePortInfo {
  number: number;
  protocol?: string;
  name?: string;
}

export interface ServiceInfo {
  hostname: string;
  ports: ServicePortInfo[];
  /** `ServiceEntry default/googleapis`, or `known service` when given to the analysis. */
  from: string;
}

/** Services the analysis knows: those given in the options, then every ServiceEntry host. */
export function serviceIndex(ctx: AnalysisContext): { exact: Map<string, ServiceInfo[]>; wildcard: ServiceInfo[] } {
  const exact = new Map<string, ServiceInfo[]>();
  const wildcard: ServiceInfo[] = [];
  const add = (s: ServiceInfo) => {
    if (s.hostname.startsWith('*')) { wildcard.push(s); return; }
    let list = exact.get(s.hostname);
    if (!list) exact.set(s.hostname, (list = []));
    list.push(s);
  };
  for (const s of ctx.options.services ?? []) add({ hostname: s.hostname.toLowerCase(), ports: s.ports, from: 'known service' });
  for (const se of ctx.ofKind('ServiceEntry')) {
    const spec = se.spec as { hosts?: unknown; ports?: unknown };
    const ports: ServicePortInfo[] = Array.isArray(spec.ports)
      ? spec.ports.filter((p): p is { number: number; protocol?: unknown; name?: unknown } => !!p && typeof (p as { number?: unknown }).number === 'number')
        .map((p) => ({ number: p.number, ...(typeof p.protocol === 'string' ? { protocol: p.protocol.toUpperCase() } : {}), ...(typeof p.name === 'string' ? { name: p.name } : {}) }))
      : [];
    if (!Array.isArray(spec.hosts)) continue;
    for (const h of spec.hosts) if (typeof h === 'string') add({ hostname: hostKey(h, se.metadata.namespace), ports, from: `ServiceEntry ${se.metadata.namespace}/${se.metadata.name}` });
  }
  return { exact, wildcard };
}

/** The services a (fully qualified) destination host names: exact ones first, else wildcard ServiceEntries. */
export function servicesFor(index: ReturnType<typeof serviceIndex>, host: string): ServiceInfo[] {
  const exact = index.exact.get(host);
  if (exact) return exact;
  if (host.startsWith('*')) return [...index.exact.entries()].filter(([h]) => hostCovers(host, h)).flatMap(([, s]) => s);
  return index.wildcard.filter((s) => hostCovers(s.hostname, host));
}
