// Sidecar resources: which services a sidecar's outbound config covers (egress hosts) and
// its outbound traffic policy. The Sidecar that applies to a proxy is the one in its
// namespace whose workloadSelector matches its labels, else the namespace's Sidecar without
// a selector, else the root namespace's (istio-system) one; none: every service, ALLOW_ANY.
import { ROOT_NAMESPACE, type Resource, type Service, type SidecarSpec } from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import { hostMatches, type PushContext } from '../model/push-context.js';
import { labelsMatch } from './endpoints.js';

export type OutboundPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface ResolvedSidecar {
  /** `default/reviews-scope` */
  key: string;
  namespace: string;
  selector?: Record<string, string>;
  /** Egress hosts as (namespace, host) pairs; namespace `*` means any. */
  egress: { namespace: string; host: string }[];
  outboundTrafficPolicy?: OutboundPolicy;
}

export interface ProxyScope {
  /** Cache key: proxies with equal keys get equal outbound config. `*` = no Sidecar. */
  key: string;
  sidecar?: ResolvedSidecar;
  visible(svc: Service): boolean;
  outboundTrafficPolicy: OutboundPolicy;
}

const cache = new WeakMap<PushContext, ResolvedSidecar[]>();

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

export function resolveSidecar(r: Resource<SidecarSpec>): ResolvedSidecar {
  const ns = r.metadata.namespace || 'default';
  const egress: ResolvedSidecar['egress'] = [];
  for (const l of Array.isArray(r.spec.egress) ? r.spec.egress : []) {
    for (const h of Array.isArray(l?.hosts) ? l.hosts : []) {
      if (typeof h !== 'string') continue;
      const slash = h.indexOf('/');
      const hostNs = slash < 0 ? '*' : h.slice(0, slash);
      const host = (slash < 0 ? h : h.slice(slash + 1)).toLowerCase();
      if (hostNs === '~') continue;
      egress.push({ namespace: hostNs === '.' ? ns : hostNs, host });
    }
  }
  const labels = r.spec.workloadSelector?.labels;
  const mode = r.spec.outboundTrafficPolicy?.mode;
  return {
    key: `${ns}/${r.metadata.name}`,
    namespace: ns,
    ...(isObject(labels) && Object.keys(labels).length ? { selector: labels as Record<string, string> } : {}),
    egress,
    ...(mode === 'ALLOW_ANY' || mode === 'REGISTRY_ONLY' ? { outboundTrafficPolicy: mode } : {}),
  };
}

function sidecars(push: PushContext): ResolvedSidecar[] {
  let list = cache.get(push);
  if (!list) {
    list = (push.resources ?? [])
      .filter((r) => r?.kind === 'Sidecar' && isObject(r.metadata) && isObject(r.spec))
      .map((r) => resolveSidecar(r as Resource<SidecarSpec>));
    cache.set(push, list);
  }
  return list;
}

export function sidecarFor(push: PushContext, proxy: ProxyDescription): ResolvedSidecar | undefined {
  const all = sidecars(push);
  const ns = proxy.workload.namespace;
  return all.find((s) => s.namespace === ns && s.selector && labelsMatch(s.selector, proxy.workload.labels))
    ?? all.find((s) => s.namespace === ns && !s.selector)
    ?? all.find((s) => s.namespace === ROOT_NAMESPACE && !s.selector);
}

export function egressCovers(sc: ResolvedSidecar, svc: Service): boolean {
  return sc.egress.some((e) => (e.namespace === '*' || e.namespace === svc.namespace) && hostMatches(e.host, svc.hostname));
}

export function proxyScope(push: PushContext, proxy: ProxyDescription, meshDefault: OutboundPolicy = 'ALLOW_ANY'): ProxyScope {
  // Sidecar resources apply to sidecars only; gateways see every service.
  const sc = proxy.kind === 'sidecar' ? sidecarFor(push, proxy) : undefined;
  if (!sc) return { key: '*', visible: () => true, outboundTrafficPolicy: meshDefault };
  return { key: sc.key, sidecar: sc, visible: (svc) => egressCovers(sc, svc), outboundTrafficPolicy: sc.outboundTrafficPolicy ?? meshDefault };
}
