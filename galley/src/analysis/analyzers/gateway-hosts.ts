// IST0132: a VirtualService bound to a Gateway names hosts that none of the Gateway's servers
// accept, so the gateway never routes them.

import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';
import { serverHostsOverlap } from './gateway-servers.js';
import { gatewayKey } from './references.js';

export const gatewayHosts: Analyzer = {
  name: 'virtualservice.gatewayhosts',
  description: 'Checks that the hosts of a VirtualService bound to a Gateway are served by that Gateway',
  analyze(ctx) {
    const gateways = new Map(ctx.ofKind('Gateway').map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g]));
    for (const vs of ctx.ofKind('VirtualService')) {
      const spec = vs.spec as { hosts?: unknown; gateways?: unknown };
      if (!Array.isArray(spec.gateways) || !Array.isArray(spec.hosts)) continue;
      const hosts = spec.hosts.filter((h): h is string => typeof h === 'string');
      spec.gateways.forEach((ref, gi) => {
        if (typeof ref !== 'string' || ref === 'mesh') return;
        const gw = gateways.get(gatewayKey(ref, vs.metadata.namespace));
        if (!gw) return; // IST0101 says so
        const servers = (gw.spec as { servers?: unknown }).servers;
        if (!Array.isArray(servers)) return;
        // A server host `ns/host` exposes only VirtualServices of namespace ns (`*`: any, `.`: the gateway's).
        const serverHosts = servers.flatMap((s) => (Array.isArray((s as { hosts?: unknown })?.hosts) ? (s as { hosts: unknown[] }).hosts : []))
          .filter((h): h is string => typeof h === 'string')
          .filter((h) => {
            if (!h.includes('/')) return true;
            const ns = h.slice(0, h.indexOf('/'));
            return ns === '*' || ns === vs.metadata.namespace || (ns === '.' && gw.metadata.namespace === vs.metadata.namespace);
          });
        const missing = hosts.filter((h) => !serverHosts.some((s) => serverHostsOverlap(s, h)));
        if (missing.length > 0) {
          ctx.report(vs, messageTypes.VirtualServiceHostNotFoundInGateway,
            `one or more host [${missing.join(' ')}] defined in VirtualService ${vs.metadata.namespace}/${vs.metadata.name} not found in Gateway ${gw.metadata.namespace}/${gw.metadata.name}.`, `spec.gateways[${gi}]`);
        }
      });
    }
  },
};
