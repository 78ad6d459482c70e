// One immutable view of the world per push (Istio's PushContext): the config resources
// from galley's latest snapshot, resolved and indexed, plus the registry snapshot.
// Builders only read it; a push builds it once and shares it across every proxy.
import {
  fqdn, resourceKey,
  type ConfigSnapshot, type DestinationRuleSpec, type GatewaySpec, type RegistrySnapshot, type Resource,
  type Service, type SourceRef, type VirtualServiceSpec, type WorkloadInstance,
} from '#api';

export interface ResolvedVirtualService {
  /** `default/reviews` */
  key: string;
  name: string;
  namespace: string;
  /** Hosts as written, lower case (gateways use them literally as domains). */
  hosts: string[];
  /** Hosts resolved with fqdn() relative to the resource's namespace. */
  fqdnHosts: string[];
  /** `ns/name` of each Gateway, or `mesh`; `['mesh']` when the resource names none. */
  gateways: string[];
  spec: VirtualServiceSpec;
  source?: SourceRef;
}

export interface ResolvedDestinationRule {
  key: string;
  namespace: string;
  host: string;
  spec: DestinationRuleSpec;
}

export interface ResolvedGateway {
  key: string;
  name: string;
  namespace: string;
  spec: GatewaySpec;
}

export const MESH_GATEWAY = 'mesh';

/** Mesh-wide options (Istio's meshConfig) that a push applies to every proxy. */
export interface MeshOptions {
  /** meshConfig.outboundTrafficPolicy.mode: what a sidecar without a Sidecar resource's policy does with unknown hosts. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

export const DEFAULT_MESH_OPTIONS: MeshOptions = Object.freeze({ outboundTrafficPolicy: 'ALLOW_ANY' });

/** Istio's gateway references: `mesh`, `name` (the resource's namespace), `ns/name`, or 1.1's `name.ns.svc.cluster.local`. */
export function resolveGatewayRef(ref: string, namespace: string): string {
  if (ref === MESH_GATEWAY) return MESH_GATEWAY;
  if (ref.includes('/')) return ref;
  const parts = ref.split('.');
  if (parts.length > 1) return `${parts[1]}/${parts[0]}`;
  return `${namespace}/${ref}`;
}

/** Does a host pattern (`*`, `*.example.com`, exact) cover a hostname? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) || host === pattern;
  return pattern === host;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

function stringList(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
}

export class PushContext {
  readonly configVersion: string | undefined;
  readonly services: ReadonlyMap<string, Service>;
  readonly instancesByService: ReadonlyMap<string, readonly WorkloadInstance[]>;
  readonly virtualServices: readonly ResolvedVirtualService[];
  readonly destinationRules: readonly ResolvedDestinationRule[];
  readonly gateways: readonly ResolvedGateway[];
  /** Resources skipped because their shape is unusable, each naming the resource. */
  readonly problems: readonly string[];
  /** Every config resource of the snapshot, sorted by key: builders of kinds without an
   *  index of their own (security policies) read it. */
  readonly resources: readonly Resource[];
  private readonly vsByHost = new Map<string, ResolvedVirtualService[]>();
  private readonly vsWildcard: ResolvedVirtualService[] = [];
  private readonly vsByGateway = new Map<string, ResolvedVirtualService[]>();
  private readonly drByHost = new Map<string, ResolvedDestinationRule>();
  private readonly drWildcard: ResolvedDestinationRule[] = [];

  constructor(config: ConfigSnapshot | undefined, readonly registry: RegistrySnapshot, readonly mesh: MeshOptions = DEFAULT_MESH_OPTIONS) {
    this.configVersion = config?.version;
    const problems: string[] = [];
    const services = new Map<string, Service>();
    for (const s of registry.services) services.set(s.hostname, s);
    // A host a ServiceEntry declares is used as written (`httpbin.org`, `api.example.com`), as
    // Istio does; only names no service is registered under get the Kubernetes-style suffix.
    const resolve = (h: string, ns: string) => resolveHost(h, ns, services);
    const instances = new Map<string, WorkloadInstance[]>();
    for (const i of registry.instances) {
      const list = instances.get(i.service) ?? [];
      list.push(i);
      instances.set(i.service, list);
    }
    const vss: ResolvedVirtualService[] = [];
    const drs: ResolvedDestinationRule[] = [];
    const gws: ResolvedGateway[] = [];
    // Istio orders same-host resources by creation time then name; we have no creation time.
    const resources = [...(config?.resources ?? [])].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    this.resources = resources;
    for (const r of resources) {
      const where = `${keyOf(r)}${r.source ? ` (${r.source.file}:${r.source.line})` : ''}`;
      if (!isObject(r) || !isObject(r.metadata) || !isObject(r.spec)) {
        problems.push(`${where}: resource without metadata or spec skipped`);
        continue;
      }
      const ns = r.metadata.namespace || 'default';
      const key = `${ns}/${r.metadata.name}`;
      switch (r.kind) {
        case 'VirtualService': {
          const spec = r.spec as unknown as VirtualServiceSpec;
          const hosts = stringList(spec.hosts).map((h) => h.toLowerCase());
          if (hosts.length === 0) { problems.push(`${where}: VirtualService without hosts skipped`); break; }
          if (spec.http !== undefined && !Array.isArray(spec.http)) { problems.push(`${where}: http must be a list; skipped`); break; }
          const refs = stringList(spec.gateways);
          vss.push({
            key, name: r.metadata.name, namespace: ns, hosts,
            fqdnHosts: hosts.map((h) => resolve(h, ns)),
            gateways: refs.length ? [...new Set(refs.map((g) => resolveGatewayRef(g, ns)))] : [MESH_GATEWAY],
            spec, source: r.source,
          });
          break;
        }
        case 'DestinationRule': {
          const spec = r.spec as unknown as DestinationRuleSpec;
          if (typeof spec.host !== 'string' || !spec.host) { problems.push(`${where}: DestinationRule without host skipped`); break; }
          if (spec.subsets !== undefined && !Array.isArray(spec.subsets)) { problems.push(`${where}: subsets must be a list; skipped`); break; }
          drs.push({ key, namespace: ns, host: resolve(spec.host, ns), spec });
          break;
        }
        case 'Gateway': {
          const spec = r.spec as unknown as GatewaySpec;
          if (!Array.isArray(spec.servers)) { problems.push(`${where}: Gateway without servers skipped`); break; }
          gws.push({ key, name: r.metadata.name, namespace: ns, spec });
          break;
        }
        default:
          break; // Later kinds (ServiceEntry, Sidecar, security) get their own indexes.
      }
    }
    for (const vs of vss) {
      if (vs.gateways.includes(MESH_GATEWAY)) {
        for (const h of new Set(vs.fqdnHosts)) {
          if (h.startsWith('*')) { if (!this.vsWildcard.includes(vs)) this.vsWildcard.push(vs); continue; }
          const list = this.vsByHost.get(h) ?? [];
          list.push(vs);
          this.vsByHost.set(h, list);
        }
      }
      for (const g of vs.gateways) {
        if (g === MESH_GATEWAY) continue;
        const list = this.vsByGateway.get(g) ?? [];
        list.push(vs);
        this.vsByGateway.set(g, list);
      }
    }
    for (const dr of drs) {
      if (dr.host.startsWith('*')) this.drWildcard.push(dr);
      // The first rule for a host wins, as in Istio.
      else if (!this.drByHost.has(dr.host)) this.drByHost.set(dr.host, dr);
      else problems.push(`DestinationRule/${dr.key}: another DestinationRule already covers ${dr.host}; ignored`);
    }
    // Most specific wildcard first.
    this.drWildcard.sort((a, b) => b.host.length - a.host.length);
    this.services = services;
    this.instancesByService = instances;
    this.virtualServices = vss;
    this.destinationRules = drs;
    this.gateways = gws;
    this.problems = problems;
    Object.freeze(this);
  }

  /** VirtualServices that apply to the mesh for a service host: exact hosts, then wildcards. */
  virtualServicesForHost(hostname: string): ResolvedVirtualService[] {
    const exact = this.vsByHost.get(hostname) ?? [];
    const wild = this.vsWildcard.filter((vs) => vs.fqdnHosts.some((h) => h.startsWith('*') && hostMatches(h, hostname)));
    return [...exact, ...wild];
  }

  /** VirtualServices bound to a Gateway (`ns/name`). */
  virtualServicesForGateway(gatewayKey: string): ResolvedVirtualService[] {
    return this.vsByGateway.get(gatewayKey) ?? [];
  }

  destinationRule(hostname: string): ResolvedDestinationRule | undefined {
    return this.drByHost.get(hostname) ?? this.drWildcard.find((dr) => hostMatches(dr.host, hostname));
  }

  instances(hostname: string): readonly WorkloadInstance[] {
    return this.instancesByService.get(hostname) ?? [];
  }

  /** A host as a resource in `namespace` names it -> the registry's hostname (see resolveHost). */
  resolveHost(host: string, namespace: string): string {
    return resolveHost(host, namespace, this.services);
  }
}

/**
 * Istio takes hosts with dots as written and makes only short names fully qualified; we also
 * expand `name.ns` and `name.ns.svc` (Kubernetes' search path), unless a registered service
 * carries the name as written (a ServiceEntry for `httpbin.org` or `api.example`).
 */
export function resolveHost(host: string, namespace: string, services: ReadonlyMap<string, unknown>): string {
  const h = host.toLowerCase();
  if (h.includes('.') && services.has(h)) return h;
  return fqdn(h, namespace);
}

function keyOf(r: Resource): string {
  try { return resourceKey(r); } catch { return `${String(r?.kind)}/?`; }
}

export function buildPushContext(config: ConfigSnapshot | undefined, registry: RegistrySnapshot, mesh?: MeshOptions): PushContext {
  return new PushContext(config, registry, mesh);
}
