// Fans in several registries into one view. Services merge by hostname (ports united);
// instances dedupe by service, service port and address:port, the first registry winning,
// so a workload seen both by Docker and by its own announcement counts once.
import type { RegistrySnapshot, Service, WorkloadInstance } from '#api';
import { ChangeListeners, type ServiceRegistry } from './service-registry.js';

export function mergeSnapshots(snapshots: readonly RegistrySnapshot[]): RegistrySnapshot {
  const services = new Map<string, Service>();
  const instances = new Map<string, WorkloadInstance>();
  for (const snap of snapshots) {
    for (const svc of snap.services) {
      const have = services.get(svc.hostname);
      if (!have) {
        services.set(svc.hostname, { ...svc, ports: [...svc.ports] });
        continue;
      }
      for (const p of svc.ports) if (!have.ports.some((q) => q.port === p.port)) have.ports.push(p);
    }
    for (const inst of snap.instances) {
      const key = `${inst.service}|${inst.servicePort}|${inst.address}:${inst.port}`;
      if (!instances.has(key)) instances.set(key, inst);
    }
  }
  for (const svc of services.values()) svc.ports.sort((a, b) => a.port - b.port);
  return {
    services: [...services.values()].sort((a, b) => a.hostname.localeCompare(b.hostname)),
    instances: [...instances.values()].sort(compareInstances),
  };
}

function compareInstances(a: WorkloadInstance, b: WorkloadInstance): number {
  return a.service.localeCompare(b.service) || a.servicePort - b.servicePort
    || a.address.localeCompare(b.address) || a.port - b.port;
}

export class AggregateRegistry implements ServiceRegistry {
  readonly name = 'aggregate';
  private readonly listeners = new ChangeListeners();
  private readonly unsubscribe: (() => void)[] = [];
  private cached: RegistrySnapshot | undefined;

  constructor(readonly registries: readonly ServiceRegistry[]) {
    for (const r of registries) {
      this.unsubscribe.push(r.onChange(() => {
        this.cached = undefined;
        this.listeners.emit();
      }));
    }
  }

  snapshot(): RegistrySnapshot {
    this.cached ??= mergeSnapshots(this.registries.map((r) => r.snapshot()));
    return this.cached;
  }

  onChange(cb: () => void): () => void {
    return this.listeners.add(cb);
  }

  async start(): Promise<void> {
    for (const r of this.registries) await r.start();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    await Promise.all(this.registries.map((r) => r.stop()));
  }
}
