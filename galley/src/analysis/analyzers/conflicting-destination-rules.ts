// MSH0010: two DestinationRules for one host. pilot applies only the first (by namespace/name)
// and ignores the others entirely, so their subsets and policies silently do nothing.
// (Istio merges some cases; it has no analyzer code for this, hence a code of ours.)

import type { Resource } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { hostKey } from './references.js';

export const conflictingDestinationRules: Analyzer = {
  name: 'destinationrule.conflicts',
  description: 'Checks that no two DestinationRules configure the same host',
  analyze(ctx) {
    const byHost = new Map<string, Resource[]>();
    for (const dr of ctx.ofKind('DestinationRule')) {
      const spec = dr.spec as { host?: unknown; workloadSelector?: unknown };
      // Rules scoped to some workloads do not compete with the namespace-wide one.
      if (typeof spec.host !== 'string' || spec.workloadSelector !== undefined) continue;
      const host = hostKey(spec.host, dr.metadata.namespace);
      let list = byHost.get(host);
      if (!list) byHost.set(host, (list = []));
      list.push(dr);
    }
    for (const [host, list] of byHost) {
      if (list.length < 2) continue;
      const names = list.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort();
      for (const dr of list) {
        const me = `${dr.metadata.namespace}/${dr.metadata.name}`;
        const fate = me === names[0] ? 'it is the one applied' : `only ${names[0]} is applied, this one is ignored`;
        ctx.report(dr, messageTypes.ConflictingDestinationRules,
          `The DestinationRules ${names.join(',')} configure the same host ${host}; ${fate}. Merge them into a single resource.`, 'spec.host');
      }
    }
  },
};
