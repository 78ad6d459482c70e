// Across Gateways: IST0145, two Gateways for the same workloads (selector) serve the same
// port and overlapping hosts; IST0138, two Gateways present the same certificate (clients
// reusing an HTTP/2 connection then get 404s from the other one).

import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';

interface Server { port?: { number?: unknown }; hosts?: unknown; tls?: { credentialName?: unknown; serverCertificate?: unknown } }

/** `ns/host` -> host; hosts overlap when one covers the other (wildcards included). */
export function serverHostsOverlap(a: string, b: string): boolean {
  const h = (x: string) => (x.includes('/') ? x.slice(x.indexOf('/') + 1) : x).toLowerCase();
  const x = h(a);
  const y = h(b);
  const covers = (p: string, q: string) => p === q || p === '*' || (p.startsWith('*.') && q.endsWith(p.slice(1)));
  return covers(x, y) || covers(y, x);
}

export const gatewayServers: Analyzer = {
  name: 'gateway.servers',
  description: 'Checks that Gateways of the same workloads do not claim the same port and hosts, or share a certificate',
  analyze(ctx) {
    const gateways = ctx.ofKind('Gateway');
    const name = (g: Resource) => `${g.metadata.namespace}/${g.metadata.name}`;
    const serversOf = (g: Resource): Server[] => {
      const s = (g.spec as { servers?: unknown }).servers;
      return Array.isArray(s) ? s.filter((x): x is Server => !!x && typeof x === 'object') : [];
    };
    const hostsOf = (s: Server): string[] => (Array.isArray(s.hosts) ? s.hosts.filter((h): h is string => typeof h === 'string') : []);
    for (let i = 0; i < gateways.length; i++) {
      const a = gateways[i]!;
      const selA = (a.spec as { selector?: unknown }).selector ?? {};
      for (const [si, sa] of serversOf(a).entries()) {
        const conflicts = new Set<string>();
        const overlapping = new Set<string>();
        for (const b of gateways) {
          if (b === a || !isDeepStrictEqual((b.spec as { selector?: unknown }).selector ?? {}, selA)) continue;
          for (const sb of serversOf(b)) {
            if (sb.port?.number === undefined || sb.port.number !== sa.port?.number) continue;
            const shared = hostsOf(sa).filter((h) => hostsOf(sb).some((o) => serverHostsOverlap(h, o)));
            if (shared.length === 0) continue;
            conflicts.add(name(b));
            for (const h of shared) overlapping.add(h);
          }
        }
        if (conflicts.size === 0) continue;
        const selector = Object.entries(selA as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(',');
        ctx.report(a, messageTypes.ConflictingGateways,
          `Conflict with gateways ${[...conflicts].sort().join(',')} (workload selector ${selector}, port ${String(sa.port?.number)}, hosts ${[...overlapping].join(',')}).`, `spec.servers[${si}]`);
      }
    }
    const byCert = new Map<string, { gw: Resource; field: string }[]>();
    for (const g of gateways) {
      serversOf(g).forEach((s, si) => {
        const cert = s.tls?.credentialName ?? s.tls?.serverCertificate;
        if (typeof cert !== 'string' || cert === '') return;
        const key = s.tls?.credentialName !== undefined ? `credential ${g.metadata.namespace}/${cert}` : `file ${cert}`;
        let list = byCert.get(key);
        if (!list) byCert.set(key, (list = []));
        if (!list.some((x) => x.gw === g)) list.push({ gw: g, field: `spec.servers[${si}].tls` });
      });
    }
    for (const list of byCert.values()) {
      if (list.length < 2) continue;
      const names = list.map((x) => name(x.gw)).sort();
      for (const x of list) {
        ctx.report(x.gw, messageTypes.GatewayDuplicateCertificate,
          `Duplicate certificate in multiple gateways [${names.join(' ')}] may cause 404s if clients re-use HTTP2 connections.`, x.field);
      }
    }
  },
};
