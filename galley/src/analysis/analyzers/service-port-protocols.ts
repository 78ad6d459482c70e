// Ports of one service must agree on their protocol wherever they are declared:
// - MSH0011: two declarations of one host (ServiceEntries, known services) give one port
//   number different protocols; which one a sidecar uses would depend on order.
// - IST0116: a workload (WorkloadEntry) selected by several ServiceEntries that use the same
//   port with different protocols (Istio's DeploymentAssociatedToMultipleServices).

import type { Resource } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { serviceIndex } from './references.js';

function protocolOf(p: { protocol?: string; name?: string }): string {
  if (p.protocol) return p.protocol.toUpperCase();
  const prefix = (p.name ?? '').toLowerCase().split('-')[0];
  return prefix ? prefix.toUpperCase() : 'TCP';
}

function selects(selector: Record<string, unknown>, labels: Record<string, unknown>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

export const servicePortProtocols: Analyzer = {
  name: 'service.portprotocols',
  description: 'Checks that a port of a service has one protocol across its declarations and the workloads behind it',
  analyze(ctx) {
    const index = serviceIndex(ctx);
    const byName = new Map<string, Resource>();
    for (const se of ctx.ofKind('ServiceEntry')) byName.set(`ServiceEntry ${se.metadata.namespace}/${se.metadata.name}`, se);
    for (const [host, services] of index.exact) {
      if (services.length < 2) continue;
      const byPort = new Map<number, Map<string, string[]>>();
      for (const s of services) {
        for (const p of s.ports) {
          let protocols = byPort.get(p.number);
          if (!protocols) byPort.set(p.number, (protocols = new Map()));
          const proto = protocolOf(p);
          protocols.set(proto, [...(protocols.get(proto) ?? []), s.from]);
        }
      }
      for (const [port, protocols] of byPort) {
        if (protocols.size < 2) continue;
        const detail = [...protocols].map(([proto, from]) => `${proto} (${from.join(', ')})`).join(' and ');
        for (const from of new Set([...protocols.values()].flat())) {
          const se = byName.get(from);
          if (se) ctx.report(se, messageTypes.ConflictingServicePortProtocols, `Port ${port} of host ${host} is declared with different protocols: ${detail}`, 'spec.ports');
        }
      }
    }
    // Workloads behind several ServiceEntries.
    const selecting = ctx.ofKind('ServiceEntry').filter((se) => {
      const sel = (se.spec as { workloadSelector?: { labels?: unknown } }).workloadSelector?.labels;
      return !!sel && typeof sel === 'object';
    });
    for (const we of ctx.ofKind('WorkloadEntry')) {
      const labels = (we.spec as { labels?: unknown }).labels;
      if (!labels || typeof labels !== 'object') continue;
      const mine = selecting.filter((se) => se.metadata.namespace === we.metadata.namespace &&
        selects((se.spec as { workloadSelector: { labels: Record<string, unknown> } }).workloadSelector.labels, labels as Record<string, unknown>));
      if (mine.length < 2) continue;
      const byPort = new Map<number, Map<string, string>>();
      for (const se of mine) {
        const ports = (se.spec as { ports?: unknown }).ports;
        if (!Array.isArray(ports)) continue;
        for (const p of ports as { number?: unknown; protocol?: unknown; name?: unknown }[]) {
          if (typeof p?.number !== 'number') continue;
          let m = byPort.get(p.number);
          if (!m) byPort.set(p.number, (m = new Map()));
          m.set(`${se.metadata.namespace}/${se.metadata.name}`, protocolOf({ protocol: typeof p.protocol === 'string' ? p.protocol : undefined, name: typeof p.name === 'string' ? p.name : undefined }));
        }
      }
      for (const [port, m] of byPort) {
        if (new Set(m.values()).size < 2) continue;
        ctx.report(we, messageTypes.WorkloadAssociatedToMultipleServices,
          `This workload ${we.metadata.namespace}/${we.metadata.name} is associated with multiple services using port ${port} but different protocols: [${[...m].map(([s, p]) => `${s} (${p})`).join(' ')}]`, 'spec.labels');
      }
    }
  },
};
