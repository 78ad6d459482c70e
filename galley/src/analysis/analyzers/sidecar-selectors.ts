// IST0111: more than one Sidecar in a namespace without a workload selector; IST0110: Sidecars
// in a namespace with the same workload selector. Either way, which one a proxy gets is undefined.
// (Istio checks IST0110 against running pods; here identical selectors are what can be known offline.)

import { isDeepStrictEqual } from 'node:util';
import type { Resource } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';

export const sidecarSelectors: Analyzer = {
  name: 'sidecar.selectors',
  description: 'Checks that Sidecars of a namespace do not select the same workloads',
  analyze(ctx) {
    const byNamespace = new Map<string, Resource[]>();
    for (const s of ctx.ofKind('Sidecar')) {
      let list = byNamespace.get(s.metadata.namespace);
      if (!list) byNamespace.set(s.metadata.namespace, (list = []));
      list.push(s);
    }
    for (const [ns, list] of byNamespace) {
      const selectorOf = (s: Resource) => (s.spec as { workloadSelector?: { labels?: Record<string, unknown> } }).workloadSelector?.labels;
      const without = list.filter((s) => !selectorOf(s) || Object.keys(selectorOf(s)!).length === 0);
      if (without.length > 1) {
        const names = without.map((s) => s.metadata.name).sort();
        for (const s of without) {
          ctx.report(s, messageTypes.MultipleSidecarsWithoutWorkloadSelectors,
            `The Sidecars [${names.join(' ')}] in namespace "${ns}" have no workload selector, which can lead to undefined behavior.`);
        }
      }
      const selected = list.filter((s) => !without.includes(s));
      const groups: Resource[][] = [];
      for (const s of selected) {
        const g = groups.find((x) => isDeepStrictEqual(selectorOf(x[0]!), selectorOf(s)));
        if (g) g.push(s); else groups.push([s]);
      }
      for (const g of groups) {
        if (g.length < 2) continue;
        const names = g.map((s) => s.metadata.name).sort();
        const labels = Object.entries(selectorOf(g[0]!)!).map(([k, v]) => `${k}=${String(v)}`).join(',');
        for (const s of g) {
          ctx.report(s, messageTypes.ConflictingSidecarWorkloadSelectors,
            `The Sidecars [${names.join(' ')}] in namespace "${ns}" select the same workloads (${labels}), which can lead to undefined behavior.`, 'spec.workloadSelector');
        }
      }
    }
  },
};
