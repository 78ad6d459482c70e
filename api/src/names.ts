// The mesh's naming rules, shared so that every part spells a host or a cluster the same way.

export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const CLUSTER_DOMAIN = 'svc.cluster.local';

/**
 * Resolves a host as a user writes it (`reviews`, `reviews.default`,
 * `reviews.default.svc.cluster.local`) to its fully qualified name, relative to the
 * namespace of the resource that names it. Names with other dots (external hosts) are kept.
 */
export function fqdn(host: string, namespace: string = DEFAULT_NAMESPACE): string {
  const h = host.toLowerCase();
  if (h === '*' || h.startsWith('*.')) return h;
  if (h.endsWith(`.${CLUSTER_DOMAIN}`)) return h;
  const parts = h.split('.');
  if (parts.length === 1) return `${h}.${namespace}.${CLUSTER_DOMAIN}`;
  if (parts.length === 2) return `${h}.${CLUSTER_DOMAIN}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${h}.cluster.local`;
  return h;
}

/** Every spelling by which a client may name a mesh service, for virtual host domains. */
export function hostAliases(hostname: string, port: number): string[] {
  const out = new Set<string>([hostname, `${hostname}:${port}`]);
  if (hostname.endsWith(`.${CLUSTER_DOMAIN}`)) {
    const [name, ns] = hostname.split('.');
    for (const a of [name, `${name}.${ns}`, `${name}.${ns}.svc`]) {
      out.add(a);
      out.add(`${a}:${port}`);
    }
  }
  return [...out];
}

export type TrafficDirection = 'outbound' | 'inbound';

/** Envoy/Istio cluster names: `outbound|9080|v1|reviews.default.svc.cluster.local`. */
export function clusterName(direction: TrafficDirection, port: number, subset: string, hostname: string): string {
  return `${direction}|${port}|${subset}|${hostname}`;
}

export function parseClusterName(name: string): { direction: TrafficDirection; port: number; subset: string; hostname: string } | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, hostname] = parts;
  if (direction !== 'outbound' && direction !== 'inbound') return undefined;
  return { direction, port: Number(port), subset: subset ?? '', hostname: hostname ?? '' };
}

export function spiffeId(namespace: string, serviceAccount: string, trustDomain: string = DEFAULT_TRUST_DOMAIN): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function parseSpiffeId(uri: string): { trustDomain: string; namespace: string; serviceAccount: string } | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  return { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

/** Istio's proxy ids are `<pod>.<namespace>`. */
export function proxyId(pod: string, namespace: string = DEFAULT_NAMESPACE): string {
  return `${pod}.${namespace}`;
}
