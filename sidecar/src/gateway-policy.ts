// Authorization at the edge: AuthorizationPolicy and RequestAuthentication whose selector picks
// the gateway (`istio: ingressgateway`) apply to every request its listeners receive, before
// routing, as Envoy's filters do on the ingress gateway: the path is normalised first (the
// same string is authorised and forwarded), then JWTs, then ALLOW/DENY/AUDIT. The source is the
// client's address (ipBlocks and remoteIpBlocks: the gateway is the edge, nothing forwards to
// it), the destination port the Gateway server's port, principals empty (no mTLS from outside).
import type { Service } from './exchange.js';
import { stack } from './exchange.js';
import type { DataPlane } from './data-plane.js';
import { authzRequestOf, meshFetch } from './inbound.js';
import { inboundPolicyOf, prepareInboundPolicy } from './inbound-policy.js';
import { authzLayer } from './layers/authz.js';
import { JwksCache, jwtLayer } from './layers/jwt.js';
import { normalizeLayerWith } from './layers/normalize.js';

/** `next` behind the gateway's request policy, for the Gateway server port `port`. */
export function gatewayPolicyService(plane: DataPlane, port: number, next: Service): Service {
  const policy = () => inboundPolicyOf(plane.current).policy;
  // A malformed policy NACKs the push before it replaces the one being enforced.
  plane.addApplyHooks({ prepare: async (c) => { prepareInboundPolicy(c); } });
  const jwks = new JwksCache(meshFetch(plane));
  return stack([
    normalizeLayerWith(() => policy().pathNormalization),
    jwtLayer({
      rules: () => policy().jwt,
      keys: (rule) => jwks.keys(rule),
      onFailure: (ex, reason) => plane.log.debug({ path: ex.path, reason }, 'request authentication failed at the gateway'),
    }),
    authzLayer({
      policies: () => policy().authz,
      request: (ex) => ({ ...authzRequestOf(ex), principal: '', ports: [port] }),
      onDecision: (ex, d) => {
        if (!d.allowed) plane.log.debug({ path: ex.path, method: ex.method, policy: d.policy }, 'RBAC: access denied at the gateway');
        if (d.audited) plane.log.info({ path: ex.path, method: ex.method, policies: d.audited, allowed: d.allowed }, 'authorization audit');
      },
    }),
  ], next);
}
