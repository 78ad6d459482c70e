// Process mode's registry: workloads their sidecars announce with register:true. Each
// announced workload's services get one instance per workload port, reached at the
// sidecar's mTLS inbound listener.
import { fqdn, protocolFromPortName, type ProxyAnnouncement, type RegistrySnapshot, type Service, type WorkloadInstance } from '#api';
import type { ProxyRegistry } from '../model/proxies.js';
import { mergeSnapshots } from './aggregate.js';
import { ChangeListeners, type ServiceRegistry } from './service-registry.js';

/** Pure conversion of one announcement to the services and instances it contributes. */
export function announcementToRegistry(a: ProxyAnnouncement): RegistrySnapshot {
  if (!a.register || a.kind !== 'sidecar') return { services: [], instances: [] };
  const w = a.workload;
  const ports = w.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? protocolFromPortName(p.name, 'HTTP') }));
  const services: Service[] = [];
  const instances: WorkloadInstance[] = [];
  for (const name of w.services) {
    const hostname = fqdn(name, w.namespace);
    services.push({ hostname, name: hostname.split('.')[0]!, namespace: hostname.split('.')[1] ?? w.namespace, ports, source: 'announce' });
    for (const p of ports) {
      instances.push({
        service: hostname,
        address: a.inbound.address,
        port: a.inbound.port,
        servicePort: p.port,
        labels: { ...w.labels },
        workload: w.name,
        namespace: w.namespace,
        serviceAccount: w.serviceAccount,
        proxyId: a.proxyId,
        tlsMode: 'istio',
        healthy: true,
        source: 'announce',
      });
    }
  }
  return { services, instances };
}

export class AnnounceRegistry implements ServiceRegistry {
  readonly name = 'announce';
  private readonly listeners = new ChangeListeners();
  private unsubscribe: (() => void) | undefined;
  private cached: RegistrySnapshot | undefined;

  constructor(private readonly proxies: ProxyRegistry) {
    // Any proxy change may add or drop instances (register can flip on an update).
    this.unsubscribe = proxies.onChange(() => {
      this.cached = undefined;
      this.listeners.emit();
    });
  }

  snapshot(): RegistrySnapshot {
    this.cached ??= mergeSnapshots(this.proxies.list().map((r) => announcementToRegistry(r.announcement)));
    return this.cached;
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
