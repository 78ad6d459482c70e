// IST0109: two VirtualServices claim the same host for the same gateway; which one wins
// would be undefined, so both are reported.

import type { Resource } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { gatewayKey, hostKey } from './references.js';

export const conflictingHosts: Analyzer = {
  name: 'virtualservice.conflictinghosts',
  description: 'Checks that no two VirtualServices define the same host for the same gateway',
  analyze(ctx) {
    const claims = new Map<string, { vs: Resource; field: string; host: string; gateway: string }[]>();
    for (const vs of ctx.ofKind('VirtualService')) {
      const spec = vs.spec as { hosts?: unknown; gateways?: unknown };
      const gws = Array.isArray(spec.gateways) && spec.gateways.length > 0 ? spec.gateways.filter((g): g is string => typeof g === 'string') : ['mesh'];
      if (!Array.isArray(spec.hosts)) continue;
      spec.hosts.forEach((h, i) => {
        if (typeof h !== 'string') return;
        const host = hostKey(h, vs.metadata.namespace);
        for (const g of gws) {
          const gateway = g === 'mesh' ? 'mesh' : gatewayKey(g, vs.metadata.namespace);
          const key = `${gateway} ${host}`;
          let list = claims.get(key);
          if (!list) claims.set(key, (list = []));
          if (!list.some((c) => c.vs === vs)) list.push({ vs, field: `spec.hosts[${i}]`, host, gateway });
        }
      });
    }
    for (const list of claims.values()) {
      if (list.length < 2) continue;
      const names = list.map((c) => `${c.vs.metadata.namespace}/${c.vs.metadata.name}`).sort().join(',');
      for (const c of list) {
        const gw = c.gateway === 'mesh' ? 'mesh gateway' : `gateway ${c.gateway}`;
        ctx.report(c.vs, messageTypes.ConflictingVirtualServiceHosts,
          `The VirtualServices ${names} associated with ${gw} define the same host ${c.host} which can lead to undefined behavior. ` +
          'This can be fixed by merging the conflicting VirtualServices into a single resource.', c.field);
      }
    }
  },
};
