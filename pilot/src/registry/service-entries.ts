// The `config` registry: services and endpoints declared in config (Istio's ServiceEntry and
// WorkloadEntry), so hosts outside Docker and outside the announcing sidecars join the mesh.
//   ServiceEntry hosts -> one Service each (hosts are used as written: they are DNS names);
//   resolution STATIC: `endpoints` (and WorkloadEntries picked by `workloadSelector`) are
//     the instances, at their address and the port named like the service port (else the
//     port's targetPort, else its number);
//   resolution DNS / DNS_ROUND_ROBIN: endpoints' addresses (or the host itself when there are
//     none) are names the proxy resolves when it connects;
//   resolution NONE: the host itself, on the port the client asked for.
// An instance gets mTLS only when it says a sidecar fronts it: the label
// `security.istio.io/tlsMode: istio` (as Istio does), on MESH_INTERNAL entries.
import {
  fqdn, protocolFromPortName,
  type Protocol, type RegistrySnapshot, type Resource, type Service, type ServiceEntrySpec, type ServicePort,
  type WorkloadEntrySpec, type WorkloadInstance,
} from '#api';
import type { ConfigStore } from '../model/config-store.js';
import { mergeSnapshots } from './aggregate.js';
import { ChangeListeners, type ServiceRegistry } from './service-registry.js';

const PROTOCOLS: Protocol[] = ['HTTP', 'HTTP2', 'GRPC', 'TCP', 'TLS', 'HTTPS'];
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

function portProtocol(p: { protocol?: string; name?: string }): Protocol {
  const declared = String(p.protocol ?? '').toUpperCase();
  if (declared === 'MONGO' || declared === 'MYSQL' || declared === 'REDIS') return 'TCP';
  return PROTOCOLS.find((x) => x === declared) ?? protocolFromPortName(p.name, 'TCP');
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A ServiceEntry host as the registry names it: short names are made fully qualified. */
export function serviceEntryHost(host: string, namespace: string): string {
  return host.includes('.') ? host.toLowerCase() : fqdn(host, namespace);
}

export interface ConversionResult {
  snapshot: RegistrySnapshot;
  /** Entries (or parts) skipped, each naming the resource. */
  problems: string[];
}

/** Pure: config resources -> the services and instances their ServiceEntries declare. */
export function serviceEntriesToRegistry(resources: readonly Resource[]): ConversionResult {
  const problems: string[] = [];
  const services: Service[] = [];
  const instances: WorkloadInstance[] = [];
  const workloadEntries = resources.filter((r) => r?.kind === 'WorkloadEntry' && isObject(r.metadata) && isObject(r.spec)) as Resource<WorkloadEntrySpec>[];
  for (const r of resources) {
    if (r?.kind !== 'ServiceEntry' || !isObject(r.metadata) || !isObject(r.spec)) continue;
    const ns = r.metadata.namespace || 'default';
    const where = `ServiceEntry/${ns}/${r.metadata.name}`;
    const spec = r.spec as unknown as ServiceEntrySpec;
    const hosts = (Array.isArray(spec.hosts) ? spec.hosts : []).filter((h): h is string => typeof h === 'string' && h !== '');
    const ports: ServicePort[] = [];
    const targetPorts = new Map<number, number | undefined>();
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
      if (!isObject(p) || typeof p.number !== 'number') { problems.push(`${where}: a port without a number skipped`); continue; }
      ports.push({ name: String(p.name ?? `port-${p.number}`), port: p.number, protocol: portProtocol(p) });
      targetPorts.set(p.number, typeof p.targetPort === 'number' ? p.targetPort : undefined);
    }
    if (!hosts.length || !ports.length) { problems.push(`${where}: needs hosts and ports; skipped`); continue; }
    const external = spec.location !== 'MESH_INTERNAL';
    const resolution = spec.resolution ?? 'NONE';
    type Backend = { address: string; ports?: Record<string, number>; labels: Record<string, string>; serviceAccount?: string; weight?: number; workload: string; namespace: string };
    const backends: Backend[] = [];
    for (const [i, e] of (Array.isArray(spec.endpoints) ? spec.endpoints : []).entries()) {
      if (!isObject(e) || typeof e.address !== 'string' || !e.address) { problems.push(`${where}: endpoints[${i}] without an address skipped`); continue; }
      backends.push({ address: e.address, ports: isObject(e.ports) ? e.ports as Record<string, number> : undefined, labels: isObject(e.labels) ? e.labels as Record<string, string> : {}, serviceAccount: typeof e.serviceAccount === 'string' ? e.serviceAccount : undefined, workload: r.metadata.name, namespace: ns, ...(typeof e.weight === 'number' ? { weight: e.weight } : {}) });
    }
    const selector = spec.workloadSelector?.labels;
    if (isObject(selector)) {
      for (const we of workloadEntries) {
        const weNs = we.metadata.namespace || 'default';
        if (weNs !== ns || typeof we.spec.address !== 'string' || !labelsMatch(selector as Record<string, string>, we.spec.labels ?? {})) continue;
        backends.push({ address: we.spec.address, ports: we.spec.ports, labels: we.spec.labels ?? {}, serviceAccount: we.spec.serviceAccount, workload: we.metadata.name, namespace: weNs });
      }
    }
    for (const host of hosts) {
      if (host.startsWith('*')) { problems.push(`${where}: wildcard host ${host} has no endpoints of its own; skipped`); continue; }
      const hostname = serviceEntryHost(host, ns);
      const parts = hostname.split('.');
      services.push({ hostname, name: hostname.endsWith('.svc.cluster.local') ? parts[0]! : hostname, namespace: ns, ports: ports.map((p) => ({ ...p })), source: 'config', meshExternal: external });
      const list: Backend[] = backends.length ? backends
        : resolution === 'STATIC' ? []
          : [{ address: host.toLowerCase(), labels: {}, workload: r.metadata.name, namespace: ns }];
      if (resolution === 'STATIC' && !backends.length) problems.push(`${where}: resolution STATIC without endpoints: ${host} has no instances`);
      for (const b of list) {
        for (const p of ports) {
          const port = b.ports?.[p.name] ?? targetPorts.get(p.port) ?? p.port;
          const sidecar = !external && b.labels[TLS_MODE_LABEL] === 'istio';
          instances.push({
            service: hostname, address: b.address, port, servicePort: p.port,
            labels: { ...b.labels }, workload: b.workload, namespace: b.namespace,
            serviceAccount: b.serviceAccount ?? 'default',
            tlsMode: sidecar ? 'istio' : 'disabled', healthy: true, source: 'config',
          });
        }
      }
    }
  }
  return { snapshot: mergeSnapshots([{ services, instances }]), problems };
}

export class ServiceEntryRegistry implements ServiceRegistry {
  readonly name = 'config';
  private readonly listeners = new ChangeListeners();
  private unsubscribe: (() => void) | undefined;
  private cached: ConversionResult | undefined;

  constructor(private readonly config: ConfigStore) {
    this.unsubscribe = config.onChange(() => {
      this.cached = undefined;
      this.listeners.emit();
    });
  }

  private result(): ConversionResult {
    this.cached ??= serviceEntriesToRegistry(this.config.snapshot?.resources ?? []);
    return this.cached;
  }

  snapshot(): RegistrySnapshot {
    return this.result().snapshot;
  }

  problems(): string[] {
    return this.result().problems;
  }

  onChange(cb: () => void): () => void {
    return this.listeners.add(cb);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
