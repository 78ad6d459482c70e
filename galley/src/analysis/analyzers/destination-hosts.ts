// IST0101 (host) and IST0112: every host a VirtualService routes to, or a DestinationRule
// configures, must be a known service; a service with several ports needs a port selector.
// Runs only when the analysis is given the services that exist (meshctl analyze --compose):
// galley alone does not know the registry (pilot does), and ServiceEntries alone would make
// every plain service look missing.

import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { hostKey, serviceIndex, servicesFor, virtualServiceDestinations } from './references.js';

export const destinationHosts: Analyzer = {
  name: 'virtualservice.destinationhosts',
  description: 'Checks that destinations name known services, with a port when the service has several',
  analyze(ctx) {
    const index = serviceIndex(ctx);
    const checkHosts = ctx.options.services !== undefined;
    for (const vs of ctx.ofKind('VirtualService')) {
      const routedPorts = new Map<string, boolean>();
      for (const d of virtualServiceDestinations(vs)) {
        const host = hostKey(d.host, vs.metadata.namespace);
        const services = servicesFor(index, host);
        if (services.length === 0) {
          if (checkHosts && !host.startsWith('*')) ctx.report(vs, messageTypes.ReferencedResourceNotFound, `Referenced host not found: "${d.host}"`, `${d.field}.host`);
          continue;
        }
        const ports = [...new Set(services.flatMap((s) => s.ports.map((p) => p.number)))].sort((a, b) => a - b);
        const hasPort = d.port !== undefined;
        if (ports.length > 1 && !hasPort && !routedPorts.has(d.field)) {
          routedPorts.set(d.field, true);
          ctx.report(vs, messageTypes.VirtualServiceDestinationPortSelectorRequired,
            `This VirtualService routes to a service "${d.host}" that exposes multiple ports [${ports.join(' ')}]. Specifying a port in the destination is required to disambiguate.`, d.field);
        }
      }
    }
    if (!checkHosts) return;
    for (const dr of ctx.ofKind('DestinationRule')) {
      const h = (dr.spec as { host?: unknown }).host;
      if (typeof h !== 'string' || h.startsWith('*')) continue;
      if (servicesFor(index, hostKey(h, dr.metadata.namespace)).length === 0) {
        ctx.report(dr, messageTypes.ReferencedResourceNotFound, `Referenced host not found: "${h}"`, 'spec.host');
      }
    }
  },
};
