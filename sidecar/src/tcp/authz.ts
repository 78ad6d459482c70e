// AuthorizationPolicy for TCP streams, as Istio applies it to TCP traffic: only the fields a
// connection has (principals, namespaces, ipBlocks, ports, source/destination ip and port
// conditions) can match. A rule that needs an HTTP-only field (methods, paths, hosts,
// requestPrincipals, request.* conditions): in an ALLOW (or AUDIT) policy it never matches,
// so ALLOW stays as strict as written; in a DENY policy the HTTP-only fields are dropped and
// the rest of the rule decides, so DENY errs on denying (Istio's documented behaviour).

import type { AuthzCondition, AuthzOperation, AuthzPolicy, AuthzRule, AuthzSource } from '#api';
import { authorize, type AuthzDecision, type AuthzRequest } from '../layers/authz.js';

const HTTP_SOURCE: (keyof AuthzSource)[] = ['requestPrincipals', 'notRequestPrincipals'];
const HTTP_OPERATION: (keyof AuthzOperation)[] = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

function httpCondition(c: AuthzCondition): boolean {
  return c.key.startsWith('request.');
}

function hasHttpOnly(rule: AuthzRule): boolean {
  return (rule.from ?? []).some((s) => HTTP_SOURCE.some((k) => s[k] !== undefined))
    || (rule.to ?? []).some((o) => HTTP_OPERATION.some((k) => o[k] !== undefined))
    || (rule.when ?? []).some(httpCondition);
}

function withoutHttpOnly(rule: AuthzRule): AuthzRule {
  const out: AuthzRule = {};
  if (rule.from) out.from = rule.from.map((s) => { const c = { ...s }; for (const k of HTTP_SOURCE) delete c[k]; return c; });
  if (rule.to) out.to = rule.to.map((o) => { const c = { ...o }; for (const k of HTTP_OPERATION) delete c[k]; return c; });
  if (rule.when) {
    const when = rule.when.filter((c) => !httpCondition(c));
    if (when.length) out.when = when;
  }
  return out;
}

/** The policies as they apply to TCP (computed once per pushed policy list). */
export function tcpPolicies(policies: readonly AuthzPolicy[]): AuthzPolicy[] {
  return policies.map((p) => ({
    ...p,
    rules: p.action === 'DENY' ? p.rules.map(withoutHttpOnly) : p.rules.filter((r) => !hasHttpOnly(r)),
  }));
}

const cache = new WeakMap<readonly AuthzPolicy[], AuthzPolicy[]>();

export interface TcpAuthzRequest {
  principal: string;
  sourceIp: string;
  destinationIp: string;
  /** Service port and the app's port. */
  ports: number[];
}

export function authorizeTcp(policies: readonly AuthzPolicy[], r: TcpAuthzRequest): AuthzDecision {
  let tcp = cache.get(policies);
  if (!tcp) cache.set(policies, tcp = tcpPolicies(policies));
  const req: AuthzRequest = { ...r, method: '', host: '', path: '', headers: {} };
  return authorize(tcp, req);
}
