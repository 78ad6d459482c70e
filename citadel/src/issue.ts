// One CSR in, one answer out: shape and TTL checks, attestation, signing, inventory.
// No sockets here, so tests drive it directly; bus.ts only carries messages to it.

import type { CsrRequest, CsrResponse, Logger } from '#api';
import type { Attestor } from './attest.js';
import type { CertificateAuthority } from './ca.js';
import { CitadelError, type ErrorCode } from './errors.js';
import type { Inventory } from './inventory.js';
import type { CitadelMetrics } from './metrics.js';

export interface IssuerDeps {
  ca: CertificateAuthority;
  attestor: Attestor;
  inventory: Inventory;
  metrics?: CitadelMetrics;
  log: Logger;
  ttlDefaultSeconds: number;
  ttlMaxSeconds: number;
}

export type Issuer = (req: CsrRequest) => Promise<CsrResponse>;

function checkShape(req: unknown): asserts req is CsrRequest {
  const r = req as Partial<CsrRequest> | null;
  if (!r || typeof r !== 'object') throw new CitadelError('BAD_REQUEST', 'request is not an object');
  for (const f of ['proxyId', 'csrPem', 'namespace', 'serviceAccount'] as const) {
    if (typeof r[f] !== 'string' || r[f] === '') throw new CitadelError('BAD_REQUEST', `field ${f} is missing or not a string`);
  }
  if (r.ttlSeconds !== undefined && r.ttlSeconds !== null && typeof r.ttlSeconds !== 'number') throw new CitadelError('TTL_INVALID', 'ttlSeconds must be a number');
}

export function createIssuer(deps: IssuerDeps): Issuer {
  const { ca, attestor, inventory, metrics, log } = deps;
  return async (req) => {
    metrics?.csrCount.inc();
    // Never log the CSR request as a whole: it carries the bootstrap token.
    const who = { proxyId: (req as Partial<CsrRequest>)?.proxyId, namespace: (req as Partial<CsrRequest>)?.namespace, serviceAccount: (req as Partial<CsrRequest>)?.serviceAccount };
    try {
      checkShape(req);
      const ttl = req.ttlSeconds ?? deps.ttlDefaultSeconds;
      if (!Number.isInteger(ttl) || ttl < 1) throw new CitadelError('TTL_INVALID', `ttlSeconds ${ttl} must be a positive integer`);
      if (ttl > deps.ttlMaxSeconds) throw new CitadelError('TTL_TOO_LONG', `ttlSeconds ${ttl} exceeds the maximum of ${deps.ttlMaxSeconds}`);
      const verdict = await attestor.attest(req);
      if (!verdict.ok) throw new CitadelError('NOT_ENTITLED', `${req.proxyId} is not entitled to ${req.namespace}/${req.serviceAccount} (${attestor.kind} attestation): ${verdict.reason}`);
      const endSign = metrics?.signSeconds?.startTimer();
      const cert = ca.sign(req.csrPem, { namespace: req.namespace, serviceAccount: req.serviceAccount }, ttl);
      endSign?.();
      const issuedAt = new Date().toISOString();
      inventory.add({
        serial: cert.serial, spiffeId: cert.spiffeId, proxyId: req.proxyId,
        notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), issuedAt,
      });
      metrics?.issued.inc();
      log.debug({ ...who, serial: cert.serial, spiffeId: cert.spiffeId, notAfter: cert.notAfter.toISOString() }, 'certificate issued');
      return {
        ok: true,
        certChainPem: cert.certPem,
        rootsPem: ca.rootsPem(),
        serial: cert.serial,
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
      };
    } catch (err) {
      const code: ErrorCode = err instanceof CitadelError ? err.code : 'SIGN_FAILED';
      const message = (err as Error).message;
      metrics?.refused.inc({ code });
      log.warn({ ...who, code, reason: message }, 'CSR refused');
      return { ok: false, code, message };
    }
  };
}
