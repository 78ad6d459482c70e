// Attestation: is the requester entitled to the identity it asks for? Pluggable, one
// implementation per deployment shape (process mode: bootstrap tokens; compose: Docker labels).

import { timingSafeEqual } from 'node:crypto';
import { DEFAULT_NAMESPACE, bootstrapToken, type CsrRequest } from '#api';
import { CitadelError } from './errors.js';

export type AttestationResult = { ok: true } | { ok: false; reason: string };

export interface Attestor {
  readonly kind: string;
  attest(req: CsrRequest): Promise<AttestationResult>;
}

/** Compares in constant time, so the token cannot be guessed a byte at a time. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Compare equal lengths even when they differ, to not leak the length through timing either.
  return timingSafeEqual(x.length === y.length ? x : y, y) && x.length === y.length;
}

/** Process mode: token = base64url(HMAC-SHA256(secret, `${ns}/${sa}`)), handed out by the launcher. */
export function tokenAttestor(secret: string): Attestor {
  return {
    kind: 'token',
    async attest(req) {
      if (typeof req.token !== 'string' || req.token === '') return { ok: false, reason: 'no bootstrap token in the request' };
      const expected = bootstrapToken(secret, req.namespace, req.serviceAccount);
      return sameSecret(req.token, expected)
        ? { ok: true }
        : { ok: false, reason: `bootstrap token is not valid for ${req.namespace}/${req.serviceAccount}` };
    },
  };
}

/** Accept everyone: for demos and first steps only (citadel warns at start). */
export function noneAttestor(): Attestor {
  return { kind: 'none', attest: async () => ({ ok: true }) };
}

/** What docker attestation needs from the engine (dockerode's getContainer().inspect()). */
export interface ContainerInspector {
  inspect(containerIdPrefix: string): Promise<{ labels: Record<string, string>; running: boolean } | undefined>;
}

/**
 * Splits a compose proxy id `<workload>-<hostname>.<ns>`, where hostname is the container's
 * 12-hex id (Docker's default hostname), e.g. `reviews-v1-3f2a9c0d1b7e.default`.
 */
export function parseComposeProxyId(proxyId: string): { workload: string; containerId: string; namespace: string } | undefined {
  const m = /^(.+)-([0-9a-f]{12})\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(proxyId);
  if (!m) return undefined;
  return { workload: m[1]!, containerId: m[2]!, namespace: m[3]! };
}

/**
 * Compose mode: the container named in the proxy id must run and carry
 * mesh.serviceaccount / mesh.namespace labels equal to the identity requested.
 */
export function dockerAttestor(docker: ContainerInspector): Attestor {
  return {
    kind: 'docker',
    async attest(req) {
      const parsed = parseComposeProxyId(req.proxyId);
      if (!parsed) return { ok: false, reason: `proxy id ${JSON.stringify(req.proxyId)} is not <workload>-<12-hex container id>.<namespace>` };
      if (parsed.namespace !== req.namespace) return { ok: false, reason: `proxy id namespace ${parsed.namespace} differs from requested namespace ${req.namespace}` };
      let container: Awaited<ReturnType<ContainerInspector['inspect']>>;
      try {
        container = await docker.inspect(parsed.containerId);
      } catch (err) {
        return { ok: false, reason: `cannot inspect container ${parsed.containerId}: ${(err as Error).message}` };
      }
      if (!container) return { ok: false, reason: `no container ${parsed.containerId}` };
      if (!container.running) return { ok: false, reason: `container ${parsed.containerId} is not running` };
      const sa = container.labels['mesh.serviceaccount'];
      const ns = container.labels['mesh.namespace'] || DEFAULT_NAMESPACE;
      if (sa !== req.serviceAccount) return { ok: false, reason: `container ${parsed.containerId} carries mesh.serviceaccount=${sa ?? '(none)'}, not ${req.serviceAccount}` };
      if (ns !== req.namespace) return { ok: false, reason: `container ${parsed.containerId} carries mesh.namespace=${ns}, not ${req.namespace}` };
      const workload = container.labels['mesh.workload'];
      if (workload && workload !== parsed.workload) return { ok: false, reason: `container ${parsed.containerId} is workload ${workload}, not ${parsed.workload}` };
      return { ok: true };
    },
  };
}

/** Picks the attestor the settings name; refuses a token mode without its secret. */
export function attestorFor(
  kind: 'token' | 'docker' | 'none',
  opts: { bootstrapSecret: string; dockerSocket: string; makeInspector: (socketPath: string) => ContainerInspector },
): Attestor {
  switch (kind) {
    case 'token':
      if (!opts.bootstrapSecret) {
        throw new CitadelError('CA_CONFIG_INVALID', 'MESH_CITADEL_ATTESTATION=token needs MESH_CITADEL_BOOTSTRAP_SECRET (the launcher sets it); set it, or choose docker or none');
      }
      return tokenAttestor(opts.bootstrapSecret);
    case 'docker':
      return dockerAttestor(opts.makeInspector(opts.dockerSocket));
    case 'none':
      return noneAttestor();
  }
}
