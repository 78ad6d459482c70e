// `meshctl x describe <workload>`: istioctl's `x describe pod`, read from the workload's own
// proxy config as pilot sent it. For each service the workload backs (its inbound ports and
// the outbound clusters that list it as an endpoint): the DestinationRule in force, the
// subsets that select it and those that do not, its traffic policy, the VirtualServices that
// route to the service, and the mTLS mode its inbound enforces.

import { parseClusterName, type Cluster, type ProxyConfig } from '#api';
import type { Endpoints } from '../endpoints.js';
import { render, type OutputFormat } from '../output.js';
import { fetchProxyConfig, resolveProxy } from './proxy-config.js';

export interface ServiceDescription {
  service: string;
  port: number;
  destinationRule?: string;
  matchingSubsets: string[];
  nonMatchingSubsets: string[];
  tlsMode: string;
  trafficPolicy: string[];
  virtualServices: { name: string; routes: number }[];
}

export interface WorkloadDescription {
  proxy: string;
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  inboundMtls: string;
  outboundTrafficPolicy: string;
  services: ServiceDescription[];
}

function policyLines(c: Cluster): string[] {
  const out: string[] = [];
  if (c.lbPolicy !== 'ROUND_ROBIN' || c.consistentHash) out.push(`load balancer: ${c.consistentHash ? `consistent hash ${JSON.stringify(c.consistentHash)}` : c.lbPolicy}`);
  if (c.connectionPool) out.push(`connection pool: ${JSON.stringify(c.connectionPool)}`);
  if (c.outlier) out.push(`outlier detection: ${JSON.stringify(c.outlier)}`);
  return out;
}

/** Pure: what applies to the workload, from its proxy config. */
export function describeWorkload(proxy: string, cfg: ProxyConfig): WorkloadDescription {
  const workload = cfg.node.workload;
  const byService = new Map<string, { port: number; clusters: Cluster[] }>();
  const mine = new Set(cfg.endpoints.filter((e) => e.endpoints.some((ep) => ep.workload === workload)).map((e) => e.cluster));
  for (const c of cfg.clusters) {
    const n = parseClusterName(c.name);
    if (!n || n.direction !== 'outbound' || !c.service) continue;
    const key = `${c.service}|${n.port}`;
    const entry = byService.get(key) ?? { port: n.port, clusters: [] };
    entry.clusters.push(c);
    byService.set(key, entry);
  }
  const services: ServiceDescription[] = [];
  for (const [key, { port, clusters }] of byService) {
    const service = key.split('|')[0]!;
    // A service this workload backs: its own endpoint is in the service-wide cluster.
    const all = clusters.find((c) => !c.subset);
    if (!all || !mine.has(all.name)) continue;
    const subsets = clusters.filter((c) => c.subset);
    const vsNames = new Map<string, number>();
    for (const rc of cfg.routes) {
      for (const vh of rc.virtualHosts) {
        if (vh.name !== `${service}:${port}`) continue;
        for (const r of vh.routes) {
          const vs = r.origin?.virtualService;
          if (vs) vsNames.set(vs, (vsNames.get(vs) ?? 0) + 1);
        }
      }
    }
    const matching = subsets.filter((c) => mine.has(c.name));
    const policyFrom = matching[0] ?? all;
    services.push({
      service, port,
      ...(all.destinationRule ? { destinationRule: all.destinationRule } : {}),
      matchingSubsets: matching.map((c) => c.subset!).sort(),
      nonMatchingSubsets: subsets.filter((c) => !mine.has(c.name)).map((c) => c.subset!).sort(),
      tlsMode: policyFrom.tls.mode,
      trafficPolicy: policyLines(policyFrom),
      virtualServices: [...vsNames.entries()].map(([name, routes]) => ({ name, routes })).sort((a, b) => a.name.localeCompare(b.name)),
    });
  }
  const inbound = cfg.listeners.find((l) => l.kind === 'inbound');
  return {
    proxy, workload, namespace: cfg.node.namespace, labels: cfg.node.labels,
    inboundMtls: cfg.inboundPolicy?.mtls.mode ?? inbound?.mtlsMode ?? 'none (no inbound listener)',
    outboundTrafficPolicy: cfg.outboundTrafficPolicy,
    services: services.sort((a, b) => a.service.localeCompare(b.service) || a.port - b.port),
  };
}

export function formatDescription(d: WorkloadDescription, format: OutputFormat): string {
  return render(format, d, () => {
    const out: string[] = [
      `Workload: ${d.workload}.${d.namespace} (proxy ${d.proxy})`,
      `   Labels: ${Object.entries(d.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '-'}`,
      `   Inbound mTLS: ${d.inboundMtls}`,
      `   Outbound traffic policy: ${d.outboundTrafficPolicy}`,
    ];
    if (!d.services.length) out.push('   No service is backed by this workload');
    for (const s of d.services) {
      out.push('--------------------', `Service: ${s.service}`, `   Port: ${s.port}`);
      if (s.destinationRule) {
        out.push(`DestinationRule: ${s.destinationRule} for "${s.service}"`);
        if (s.matchingSubsets.length || s.nonMatchingSubsets.length) {
          out.push(`   Matching subsets: ${s.matchingSubsets.join(',') || '-'}`);
          if (s.nonMatchingSubsets.length) out.push(`      (Non-matching subsets ${s.nonMatchingSubsets.join(',')})`);
        }
        out.push(`   Traffic Policy TLS Mode: ${s.tlsMode}`);
        for (const l of s.trafficPolicy) out.push(`   ${l}`);
      } else {
        out.push('No destination rule', `   TLS Mode: ${s.tlsMode}`);
      }
      if (!s.virtualServices.length) out.push('No VirtualService: requests go to every endpoint');
      for (const v of s.virtualServices) out.push(`VirtualService: ${v.name}`, `   ${v.routes} HTTP route(s)`);
    }
    return `${out.join('\n')}\n`;
  });
}

export async function fetchDescription(ep: Endpoints, workload: string): Promise<WorkloadDescription> {
  const id = await resolveProxy(ep, workload);
  const { config } = await fetchProxyConfig(ep, id);
  return describeWorkload(id, config);
}
