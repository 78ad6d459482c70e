// Helpers for analyzers that follow references between resources (hosts, gateways).

import { fqdn, type Resource, type VirtualServiceSpec } from '#api';

/** Every destination a VirtualService names, with the field that names it. */
export function virtualServiceDestinations(vs: Resource): { host: string; subset?: string; field: string }[] {
  const spec = vs.spec as VirtualServiceSpec;
  const out: { host: string; subset?: string; field: string }[] = [];
  const add = (d: unknown, field: string) => {
    if (d && typeof d === 'object' && typeof (d as { host?: unknown }).host === 'string') {
      const { host, subset } = d as { host: string; subset?: unknown };
      out.push({ host, ...(typeof subset === 'string' ? { subset } : {}), field });
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
