// Authorization (Istio's AuthorizationPolicy as Envoy's RBAC filter runs it): DENY policies
// first, then ALLOW (when any ALLOW policy applies, one must match), AUDIT only logs. A denied
// request gets 403 "RBAC: access denied" and never reaches the app.
//
// Paths are matched on the normalised string that is also forwarded (normalize.ts). DENY is
// matched leniently as well: case-insensitively and with `;params` stripped from each
// segment, so an upstream that ignores case or path parameters (Tomcat, Spring) cannot be
// reached through `/ADMIN` or `/admin;x=y`. ALLOW matches exactly, as Istio does.

import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { parseSpiffeId, type AuthzCondition, type AuthzOperation, type AuthzPolicy, type AuthzRule, type AuthzSource, type AuthzStringMatch } from '#api';
import type { Exchange, Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';

/** What a request looks like to the policy engine. */
export interface AuthzRequest {
  /** SPIFFE id of the mTLS peer; '' for plaintext. */
  principal: string;
  sourceIp: string;
  destinationIp: string;
  method: string;
  /** Host[:port], lower case. */
  host: string;
  /** Normalised path without the query. */
  path: string;
  /** The ports that name the destination: service port and the app's port. */
  ports: number[];
  headers: IncomingHttpHeaders;
  /** `iss/sub` of a validated JWT. */
  requestPrincipal?: string;
  claims?: Record<string, unknown>;
}

export type AuthzDecision =
  | { allowed: true; audited?: string[] }
  | { allowed: false; policy: string; audited?: string[] };

type Mode = 'strict' | 'lenient';

function matchOne(m: AuthzStringMatch, v: string, ci: boolean): boolean {
  if ('presence' in m) return true;
  const val = ci ? v.toLowerCase() : v;
  if ('exact' in m) return val === (ci ? m.exact.toLowerCase() : m.exact);
  if ('prefix' in m) return val.startsWith(ci ? m.prefix.toLowerCase() : m.prefix);
  return val.endsWith(ci ? m.suffix.toLowerCase() : m.suffix);
}

function anyMatch(list: AuthzStringMatch[], values: readonly string[], ci = false): boolean {
  return values.some((v) => list.some((m) => matchOne(m, v, ci)));
}

/** `a;x=1/b;y` -> `a/b`: what servers that honour path parameters see. */
function stripParams(path: string): string {
  return path.includes(';') ? path.split('/').map((seg) => seg.split(';')[0]).join('/') : path;
}

const blockCache = new Map<string, BlockList | undefined>();

function unmapped(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function blockList(cidrs: readonly string[]): BlockList | undefined {
  const key = cidrs.join(',');
  if (blockCache.has(key)) return blockCache.get(key);
  const bl = new BlockList();
  let any = false;
  for (const c of cidrs) {
    const [addr, bitsRaw] = c.split('/');
    const family = isIP(addr ?? '');
    if (!family) continue;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const bits = bitsRaw === undefined ? (family === 4 ? 32 : 128) : Number(bitsRaw);
    if (!Number.isInteger(bits)) continue;
    bl.addSubnet(addr!, bits, type);
    any = true;
  }
  const out = any ? bl : undefined;
  if (blockCache.size > 1000) blockCache.clear();
  blockCache.set(key, out);
  return out;
}

function ipIn(cidrs: readonly string[], ip: string): boolean {
  const addr = unmapped(ip);
  const family = isIP(addr);
  if (!family) return false;
  return blockList(cidrs)?.check(addr, family === 4 ? 'ipv4' : 'ipv6') ?? false;
}

function principalName(spiffe: string): string {
  return spiffe.startsWith('spiffe://') ? spiffe.slice(9) : spiffe;
}

/** Runs a positive and a negative list on a set of values; absent lists do not constrain. */
function field(values: readonly string[] | undefined, pos: AuthzStringMatch[] | undefined, neg: AuthzStringMatch[] | undefined, ci = false): boolean {
  if (pos && !(values && anyMatch(pos, values, ci))) return false;
  if (neg && values && anyMatch(neg, values, ci)) return false;
  return true;
}

function sourceMatches(s: AuthzSource, r: AuthzRequest): boolean {
  const principal = r.principal ? [principalName(r.principal)] : undefined;
  const ns = r.principal ? parseSpiffeId(r.principal)?.namespace : undefined;
  if (!field(principal, s.principals, s.notPrincipals)) return false;
  if (!field(r.requestPrincipal ? [r.requestPrincipal] : undefined, s.requestPrincipals, s.notRequestPrincipals)) return false;
  if (!field(ns ? [ns] : undefined, s.namespaces, s.notNamespaces)) return false;
  if (s.ipBlocks && !ipIn(s.ipBlocks, r.sourceIp)) return false;
  if (s.notIpBlocks && ipIn(s.notIpBlocks, r.sourceIp)) return false;
  return true;
}

function hostValues(host: string): string[] {
  const colon = host.lastIndexOf(':');
  return colon > 0 && !host.endsWith(']') ? [host, host.slice(0, colon)] : [host];
}

function operationMatches(o: AuthzOperation, r: AuthzRequest, mode: Mode): boolean {
  if (!field(hostValues(r.host), o.hosts, o.notHosts, true)) return false;
  if (o.ports && !o.ports.some((p) => r.ports.includes(p))) return false;
  if (o.notPorts && o.notPorts.some((p) => r.ports.includes(p))) return false;
  if (!field([r.method], o.methods, o.notMethods)) return false;
  const lenient = mode === 'lenient';
  const paths = lenient ? [r.path, stripParams(r.path)] : [r.path];
  if (!field(paths, o.paths, o.notPaths, lenient)) return false;
  return true;
}

function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `request.auth.claims[a][b]` -> the claim's values as strings (arrays give one per element). */
function claimValues(claims: Record<string, unknown> | undefined, path: string[]): string[] | undefined {
  let cur: unknown = claims;
  for (const k of path) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  if (cur === undefined || cur === null) return undefined;
  if (Array.isArray(cur)) return cur.filter((x) => ['string', 'number', 'boolean'].includes(typeof x)).map(String);
  if (typeof cur === 'object') return undefined;
  return [String(cur)];
}

/** The values a `when` key names for this request; null when the key is not supported. */
export function conditionValues(key: string, r: AuthzRequest): string[] | undefined | null {
  const header = /^request\.headers\[(.+)\]$/.exec(key);
  if (header) { const v = headerValue(r.headers, header[1]!); return v === undefined ? undefined : [v]; }
  const claim = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (claim) return claimValues(r.claims, [...claim[1]!.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!));
  switch (key) {
    case 'source.ip': case 'remote.ip': return [unmapped(r.sourceIp)];
    case 'source.namespace': { const ns = r.principal ? parseSpiffeId(r.principal)?.namespace : undefined; return ns ? [ns] : undefined; }
    case 'source.principal': return r.principal ? [principalName(r.principal)] : undefined;
    case 'request.auth.principal': return r.requestPrincipal ? [r.requestPrincipal] : undefined;
    case 'request.auth.audiences': return claimValues(r.claims, ['aud']);
    case 'request.auth.presenter': return claimValues(r.claims, ['azp']);
    case 'destination.ip': return [unmapped(r.destinationIp)];
    case 'destination.port': return r.ports.map(String);
    default: return null;
  }
}

const IP_KEYS = new Set(['source.ip', 'remote.ip', 'destination.ip']);

function conditionMatches(c: AuthzCondition, r: AuthzRequest, action: AuthzPolicy['action']): boolean {
  const values = conditionValues(c.key, r);
  // A key we cannot evaluate: an ALLOW never grants on it, a DENY denies (fail closed).
  if (values === null) return action === 'DENY';
  if (IP_KEYS.has(c.key)) {
    const raw = (l: AuthzStringMatch[] | undefined) => l?.map((m) => ('exact' in m ? m.exact : '')).filter(Boolean);
    const pos = raw(c.values);
    const neg = raw(c.notValues);
    if (pos && !(values && values.some((v) => ipIn(pos, v)))) return false;
    if (neg && values && values.some((v) => ipIn(neg, v))) return false;
    return true;
  }
  return field(values, c.values, c.notValues);
}

export function ruleMatches(rule: AuthzRule, r: AuthzRequest, action: AuthzPolicy['action']): boolean {
  const mode: Mode = action === 'DENY' ? 'lenient' : 'strict';
  if (rule.from && !rule.from.some((s) => sourceMatches(s, r))) return false;
  if (rule.to && !rule.to.some((o) => operationMatches(o, r, mode))) return false;
  if (rule.when && !rule.when.every((c) => conditionMatches(c, r, action))) return false;
  return true;
}

function policyMatches(p: AuthzPolicy, r: AuthzRequest): boolean {
  return p.rules.some((rule) => ruleMatches(rule, r, p.action));
}

/** DENY first, then ALLOW; AUDIT policies that match are reported, never enforced. */
export function authorize(policies: readonly AuthzPolicy[], r: AuthzRequest): AuthzDecision {
  const audited = policies.filter((p) => p.action === 'AUDIT' && policyMatches(p, r)).map((p) => p.name);
  const extra = audited.length ? { audited } : {};
  for (const p of policies) {
    if (p.action === 'DENY' && policyMatches(p, r)) return { allowed: false, policy: p.name, ...extra };
  }
  const allows = policies.filter((p) => p.action === 'ALLOW');
  if (allows.length === 0 || allows.some((p) => policyMatches(p, r))) return { allowed: true, ...extra };
  return { allowed: false, policy: '(no ALLOW policy matched)', ...extra };
}

export interface AuthzLayerDeps {
  /** The policies in force now (they change with each push). */
  policies: () => readonly AuthzPolicy[];
  /** Builds the request view (peer identity, ports, JWT results) for this exchange. */
  request: (ex: Exchange) => AuthzRequest;
  onDecision?: (ex: Exchange, d: AuthzDecision) => void;
}

export const RBAC_DENIED_BODY = 'RBAC: access denied';

export function authzLayer(deps: AuthzLayerDeps): Layer {
  return (next) => (ex) => {
    const policies = deps.policies();
    if (policies.length === 0) return next(ex);
    const d = authorize(policies, deps.request(ex));
    deps.onDecision?.(ex, d);
    if (!d.allowed) return Promise.resolve(localResponse(403, RBAC_DENIED_BODY));
    return next(ex);
  };
}
