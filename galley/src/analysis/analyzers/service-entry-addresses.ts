// IST0134: a ServiceEntry with TCP (or unset) ports and no addresses: a sidecar cannot tell
// its traffic apart from other TCP traffic on the port.

import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';

export const serviceEntryAddresses: Analyzer = {
  name: 'serviceentry.addresses',
  description: 'Checks that ServiceEntries with TCP ports declare addresses',
  analyze(ctx) {
    for (const se of ctx.ofKind('ServiceEntry')) {
      const spec = se.spec as { addresses?: unknown; ports?: unknown };
      if (Array.isArray(spec.addresses) && spec.addresses.length > 0) continue;
      if (!Array.isArray(spec.ports)) continue;
      spec.ports.forEach((p, i) => {
        const protocol = (p as { protocol?: unknown })?.protocol;
        if (protocol === undefined || protocol === '' || (typeof protocol === 'string' && protocol.toUpperCase() === 'TCP')) {
          ctx.report(se, messageTypes.ServiceEntryAddressesRequired, 'ServiceEntry addresses are required for this protocol.', `spec.ports[${i}].protocol`);
        }
      });
    }
  },
};
