// IST0101: a VirtualService routes to a subset no DestinationRule for that host defines.

import type { DestinationRuleSpec } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { hostCovers, hostKey, virtualServiceDestinations } from './references.js';

export const subsetNotFound: Analyzer = {
  name: 'virtualservice.subsets',
  description: 'Checks that every subset a VirtualService routes to is defined by a DestinationRule of that host',
  analyze(ctx) {
    const rules = ctx.ofKind('DestinationRule').map((dr) => {
      const spec = dr.spec as Partial<DestinationRuleSpec>;
      const subsets = Array.isArray(spec.subsets) ? spec.subsets.map((s) => s?.name).filter((n): n is string => typeof n === 'string') : [];
      return { host: typeof spec.host === 'string' ? hostKey(spec.host, dr.metadata.namespace) : '', subsets };
    });
    for (const vs of ctx.ofKind('VirtualService')) {
      for (const d of virtualServiceDestinations(vs)) {
        if (d.subset === undefined) continue;
        const host = hostKey(d.host, vs.metadata.namespace);
        const found = rules.some((r) => r.host && hostCovers(r.host, host) && r.subsets.includes(d.subset!));
        if (!found) {
          ctx.report(vs, messageTypes.ReferencedResourceNotFound,
            `Referenced host+subset in destinationrule not found: "${d.host}+${d.subset}"`, `${d.field}.subset`);
        }
      }
    }
  },
};
