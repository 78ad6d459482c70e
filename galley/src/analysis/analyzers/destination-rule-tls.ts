// IST0128 / IST0129: a DestinationRule originates TLS (SIMPLE or MUTUAL) without
// caCertificates, so the server's certificate is never verified.

import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';

type Tls = { mode?: unknown; caCertificates?: unknown; credentialName?: unknown; insecureSkipVerify?: unknown };

function unverified(tls: Tls | undefined): string | undefined {
  if (!tls || typeof tls !== 'object') return undefined;
  if (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL') return undefined;
  if (tls.caCertificates || tls.credentialName || tls.insecureSkipVerify === true) return undefined;
  return tls.mode;
}

export const destinationRuleTls: Analyzer = {
  name: 'destinationrule.servercertificate',
  description: 'Checks that DestinationRules originating TLS verify the server certificate',
  analyze(ctx) {
    for (const dr of ctx.ofKind('DestinationRule')) {
      const spec = dr.spec as { host?: unknown; trafficPolicy?: { tls?: Tls; portLevelSettings?: unknown }; subsets?: unknown };
      const host = String(spec.host);
      const who = `DestinationRule ${dr.metadata.name} in namespace ${dr.metadata.namespace}`;
      const policies: { path: string; policy: { tls?: Tls; portLevelSettings?: unknown } | undefined }[] = [{ path: 'spec.trafficPolicy', policy: spec.trafficPolicy }];
      if (Array.isArray(spec.subsets)) spec.subsets.forEach((s, i) => policies.push({ path: `spec.subsets[${i}].trafficPolicy`, policy: (s as { trafficPolicy?: never })?.trafficPolicy }));
      for (const { path, policy } of policies) {
        if (!policy || typeof policy !== 'object') continue;
        const mode = unverified(policy.tls);
        if (mode) {
          ctx.report(dr, messageTypes.NoServerCertificateVerificationDestinationLevel,
            `${who} has TLS mode set to ${mode} but no caCertificates are set to validate server identity for host: ${host}`, `${path}.tls`);
        }
        if (!Array.isArray(policy.portLevelSettings)) continue;
        policy.portLevelSettings.forEach((pl, i) => {
          const m = unverified((pl as { tls?: Tls })?.tls);
          if (!m) return;
          const port = (pl as { port?: { number?: unknown } }).port?.number;
          ctx.report(dr, messageTypes.NoServerCertificateVerificationPortLevel,
            `${who} has TLS mode set to ${m} but no caCertificates are set to validate server identity for host: ${host} at port ${String(port)}`, `${path}.portLevelSettings[${i}].tls`);
        });
      }
    }
  },
};
