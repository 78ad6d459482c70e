// IST0101: a VirtualService names a gateway that does not exist (`mesh` is the sidecars).

import type { Resource } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { gatewayKey } from './references.js';

function gatewayRefs(vs: Resource): { ref: string; field: string }[] {
  const spec = vs.spec as { gateways?: unknown; http?: unknown };
  const out: { ref: string; field: string }[] = [];
  if (Array.isArray(spec.gateways)) spec.gateways.forEach((g, i) => typeof g === 'string' && out.push({ ref: g, field: `spec.gateways[${i}]` }));
  if (Array.isArray(spec.http)) {
    spec.http.forEach((r, i) => {
      const match = (r as { match?: unknown })?.match;
      if (!Array.isArray(match)) return;
      match.forEach((m, j) => {
        const gws = (m as { gateways?: unknown })?.gateways;
        if (Array.isArray(gws)) gws.forEach((g, k) => typeof g === 'string' && out.push({ ref: g, field: `spec.http[${i}].match[${j}].gateways[${k}]` }));
      });
    });
  }
  return out;
}

export const gatewayNotFound: Analyzer = {
  name: 'virtualservice.gateways',
  description: 'Checks that every gateway a VirtualService names exists',
  analyze(ctx) {
    const gateways = new Set(ctx.ofKind('Gateway').map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
    for (const vs of ctx.ofKind('VirtualService')) {
      for (const { ref, field } of gatewayRefs(vs)) {
        if (ref === 'mesh') continue;
        if (!gateways.has(gatewayKey(ref, vs.metadata.namespace)) && !gateways.has(`${vs.metadata.namespace}/${ref}`)) {
          ctx.report(vs, messageTypes.ReferencedResourceNotFound, `Referenced gateway not found: "${ref}"`, field);
        }
      }
    }
  },
};
