// Security policy for one proxy: PeerAuthentication, AuthorizationPolicy and
// RequestAuthentication -> the sidecar's InboundPolicy (what its inbound listener enforces),
// plus auto mTLS on the client side (plaintext toward workloads whose policy is DISABLE).
// Pure but for reading JWKS files named by `jwksUri: file://...`, cached per push.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ROOT_NAMESPACE, resourceKey,
  type AuthorizationPolicySpec, type AuthorizationRuleSpec, type AuthzCondition, type AuthzOperation, type AuthzPolicy,
  type AuthzRule, type AuthzSource, type AuthzStringMatch, type Cluster, type InboundPolicy, type JwtRule, type MtlsMode,
  type PeerAuthenticationMode, type PeerAuthenticationSpec, type RequestAuthenticationSpec, type Resource, type WorkloadSelector,
} from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import type { PushContext } from '../model/push-context.js';
import { effectivePolicy, subsetsOf } from './clusters.js';

/** Istio's default when no PeerAuthentication applies. */
export const DEFAULT_MTLS_MODE: MtlsMode = 'PERMISSIVE';

interface SecurityIndex {
  peer: Resource<PeerAuthenticationSpec>[];
  authz: Resource<AuthorizationPolicySpec>[];
  request: Resource<RequestAuthenticationSpec>[];
  /** JWKS files read during this push. */
  files: Map<string, string | Error>;
}

const indexCache = new WeakMap<PushContext, SecurityIndex>();

function isObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

function securityIndex(push: PushContext): SecurityIndex {
  let idx = indexCache.get(push);
  if (!idx) {
    idx = { peer: [], authz: [], request: [], files: new Map() };
    // `resources` is sorted by key: the first policy at a level wins (Istio: the oldest).
    for (const r of push.resources ?? []) {
      if (!isObject(r) || !isObject(r.metadata) || !isObject(r.spec)) continue;
      if (r.kind === 'PeerAuthentication') idx.peer.push(r as Resource<PeerAuthenticationSpec>);
      else if (r.kind === 'AuthorizationPolicy') idx.authz.push(r as Resource<AuthorizationPolicySpec>);
      else if (r.kind === 'RequestAuthentication') idx.request.push(r as Resource<RequestAuthenticationSpec>);
    }
    indexCache.set(push, idx);
  }
  return idx;
}

function hasSelector(sel: WorkloadSelector | undefined): boolean {
  return isObject(sel?.matchLabels) && Object.keys(sel!.matchLabels!).length > 0;
}

export function selectorMatches(sel: WorkloadSelector | undefined, labels: Record<string, string>): boolean {
  if (!hasSelector(sel)) return true;
  return Object.entries(sel!.matchLabels!).every(([k, v]) => labels[k] === v);
}

const nsOf = (r: { metadata: { namespace: string } }) => r.metadata.namespace || 'default';

/**
 * Policies that apply to a workload (AuthorizationPolicy and RequestAuthentication rules):
 * root namespace without selector (mesh), root namespace with a matching selector (any
 * namespace), the workload's namespace without selector, or with a matching selector.
 */
export function applicableTo<S extends { selector?: WorkloadSelector }>(list: Resource<S>[], ns: string, labels: Record<string, string>): Resource<S>[] {
  return list.filter((r) => {
    const rns = nsOf(r);
    if (rns !== ns && rns !== ROOT_NAMESPACE) return false;
    return selectorMatches(r.spec.selector, labels);
  });
}

function modeOf(m: unknown): PeerAuthenticationMode | undefined {
  return m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' || m === 'UNSET' ? m : undefined;
}

/** The narrowest PeerAuthentication wins: workload over namespace over mesh; UNSET inherits. */
export function peerAuthentication(push: PushContext, proxy: ProxyDescription): { mode: MtlsMode; ports?: Record<string, MtlsMode>; origins: string[] } {
  const { peer } = securityIndex(push);
  const ns = proxy.workload.namespace;
  const labels = proxy.workload.labels;
  const mesh = peer.find((r) => nsOf(r) === ROOT_NAMESPACE && !hasSelector(r.spec.selector));
  const namespace = ns === ROOT_NAMESPACE ? undefined : peer.find((r) => nsOf(r) === ns && !hasSelector(r.spec.selector));
  const workload = peer.find((r) => nsOf(r) === ns && hasSelector(r.spec.selector) && selectorMatches(r.spec.selector, labels));
  let mode: MtlsMode = DEFAULT_MTLS_MODE;
  const origins: string[] = [];
  for (const level of [mesh, namespace, workload]) {
    const m = modeOf(level?.spec.mtls?.mode);
    if (level && m && m !== 'UNSET') {
      mode = m;
      origins.push(resourceKey(level));
    }
  }
  let ports: Record<string, MtlsMode> | undefined;
  // Istio honours portLevelMtls only on policies with a selector.
  const portLevel = workload?.spec.portLevelMtls;
  if (workload && isObject(portLevel)) {
    for (const [key, v] of Object.entries(portLevel)) {
      const m = modeOf(isObject(v) ? v.mode : undefined);
      if (!m || m === 'UNSET') continue;
      const n = Number(key);
      // The key is the workload port (the container's); clients address the service port.
      for (const p of proxy.workload.ports) {
        if (p.targetPort === n || p.port === n) (ports ??= {})[String(p.port)] = m;
      }
    }
    if (ports && !origins.includes(resourceKey(workload))) origins.push(resourceKey(workload));
  }
  return { mode, ...(ports ? { ports } : {}), origins };
}

/** Istio's string forms: `*` (present), `prefix*`, `*suffix`, exact. */
export function stringMatch(raw: string): AuthzStringMatch {
  if (raw === '*') return { presence: true };
  if (raw.endsWith('*')) return { prefix: raw.slice(0, -1) };
  if (raw.startsWith('*')) return { suffix: raw.slice(1) };
  return { exact: raw };
}

function strings(x: unknown): string[] | undefined {
  if (!Array.isArray(x)) return undefined;
  return x.filter((s): s is string => typeof s === 'string');
}

function matches(x: unknown, lower = false): AuthzStringMatch[] | undefined {
  const list = strings(x);
  return list ? list.map((s) => stringMatch(lower ? s.toLowerCase() : s)) : undefined;
}

function portList(x: unknown): number[] | undefined {
  if (!Array.isArray(x)) return undefined;
  // A port that is not a number can match no request; keep the list non-empty so the field still constrains.
  return x.map((p) => Number(p)).map((n) => (Number.isInteger(n) ? n : -1));
}

function put<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

/** `serviceAccounts: [ns/sa, sa]` (sa alone: the policy's namespace) -> principal matches. */
function serviceAccountPrincipals(x: unknown, ns: string): AuthzStringMatch[] | undefined {
  return strings(x)?.map((sa) => ({ exact: sa.includes('/') ? `cluster.local/ns/${sa.replace('/', '/sa/')}` : `cluster.local/ns/${ns}/sa/${sa}` }));
}

function convertRule(r: AuthorizationRuleSpec, ns: string): AuthzRule {
  const out: AuthzRule = {};
  if (Array.isArray(r.from)) {
    out.from = r.from.map((f) => {
      const s = isObject(f) && isObject(f.source) ? f.source : {};
      const src: AuthzSource = {};
      const sa = serviceAccountPrincipals((s as Record<string, unknown>).serviceAccounts, ns);
      const notSa = serviceAccountPrincipals((s as Record<string, unknown>).notServiceAccounts, ns);
      const principals = matches(s.principals);
      const notPrincipals = matches(s.notPrincipals);
      if (principals || sa) src.principals = [...(principals ?? []), ...(sa ?? [])];
      if (notPrincipals || notSa) src.notPrincipals = [...(notPrincipals ?? []), ...(notSa ?? [])];
      put(src, 'requestPrincipals', matches(s.requestPrincipals));
      put(src, 'notRequestPrincipals', matches(s.notRequestPrincipals));
      put(src, 'namespaces', matches(s.namespaces));
      put(src, 'notNamespaces', matches(s.notNamespaces));
      // No proxy sits between a sidecar and its peer here: the remote address is the peer's.
      const ip = [...(strings(s.ipBlocks) ?? []), ...(strings(s.remoteIpBlocks) ?? [])];
      const notIp = [...(strings(s.notIpBlocks) ?? []), ...(strings(s.notRemoteIpBlocks) ?? [])];
      if (s.ipBlocks !== undefined || s.remoteIpBlocks !== undefined) src.ipBlocks = ip;
      if (s.notIpBlocks !== undefined || s.notRemoteIpBlocks !== undefined) src.notIpBlocks = notIp;
      return src;
    });
  }
  if (Array.isArray(r.to)) {
    out.to = r.to.map((t) => {
      const o = isObject(t) && isObject(t.operation) ? t.operation : {};
      const op: AuthzOperation = {};
      put(op, 'hosts', matches(o.hosts, true));
      put(op, 'notHosts', matches(o.notHosts, true));
      put(op, 'ports', portList(o.ports));
      put(op, 'notPorts', portList(o.notPorts));
      put(op, 'methods', matches(o.methods));
      put(op, 'notMethods', matches(o.notMethods));
      put(op, 'paths', matches(o.paths));
      put(op, 'notPaths', matches(o.notPaths));
      return op;
    });
  }
  if (Array.isArray(r.when)) {
    out.when = r.when.filter(isObject).map((w) => {
      const c: AuthzCondition = { key: typeof w.key === 'string' ? w.key : '' };
      put(c, 'values', matches(w.values));
      put(c, 'notValues', matches(w.notValues));
      return c;
    });
  }
  return out;
}

export function convertAuthorizationPolicy(r: Resource<AuthorizationPolicySpec>): AuthzPolicy {
  const action = r.spec.action ?? 'ALLOW';
  const rules = Array.isArray(r.spec.rules) ? r.spec.rules.filter(isObject).map((rule) => convertRule(rule, nsOf(r))) : [];
  // CUSTOM needs an external authorizer we do not have: fail closed (deny what it would check).
  return { name: resourceKey(r), action: action === 'CUSTOM' ? 'DENY' : action, rules };
}

function readJwksFile(idx: SecurityIndex, uri: string): string | Error {
  let hit = idx.files.get(uri);
  if (hit === undefined) {
    try {
      hit = readFileSync(fileURLToPath(uri), 'utf8');
      JSON.parse(hit);
    } catch (err) {
      hit = new Error(`cannot read JWKS ${uri}: ${(err as Error).message}`);
    }
    idx.files.set(uri, hit);
  }
  return hit;
}

/** An unusable key set: no key verifies against it, so every token fails (401), never passes. */
const EMPTY_JWKS = '{"keys":[]}';

export function convertJwtRules(idx: SecurityIndex, r: Resource<RequestAuthenticationSpec>): JwtRule[] {
  const out: JwtRule[] = [];
  for (const j of Array.isArray(r.spec.jwtRules) ? r.spec.jwtRules : []) {
    if (!isObject(j) || typeof j.issuer !== 'string' || !j.issuer) continue;
    const rule: JwtRule = { issuer: j.issuer, origin: resourceKey(r) };
    put(rule, 'audiences', strings(j.audiences));
    if (typeof j.jwks === 'string' && j.jwks) rule.jwks = j.jwks;
    else if (typeof j.jwksUri === 'string' && j.jwksUri.startsWith('file://')) {
      const read = readJwksFile(idx, j.jwksUri);
      rule.jwks = typeof read === 'string' ? read : EMPTY_JWKS;
    } else if (typeof j.jwksUri === 'string' && j.jwksUri) rule.jwksUri = j.jwksUri;
    else rule.jwks = EMPTY_JWKS;
    if (Array.isArray(j.fromHeaders)) {
      rule.fromHeaders = j.fromHeaders.filter((h) => isObject(h) && typeof h.name === 'string')
        .map((h) => ({ name: h.name.toLowerCase(), ...(typeof h.prefix === 'string' ? { prefix: h.prefix } : {}) }));
    }
    put(rule, 'fromParams', strings(j.fromParams));
    if (j.forwardOriginalToken === true) rule.forwardOriginalToken = true;
    if (typeof j.outputPayloadToHeader === 'string' && j.outputPayloadToHeader) rule.outputPayloadToHeader = j.outputPayloadToHeader.toLowerCase();
    out.push(rule);
  }
  return out;
}

/** The sidecar's inbound policy; for a gateway, what its listeners enforce (authorization and
 *  JWT from policies selecting it, e.g. `istio: ingressgateway`), undefined when none does. */
export function buildInboundPolicy(push: PushContext, proxy: ProxyDescription): InboundPolicy | undefined {
  if (proxy.kind !== 'sidecar') return gatewayPolicy(push, proxy);
  const idx = securityIndex(push);
  const ns = proxy.workload.namespace;
  const labels = proxy.workload.labels;
  const peer = peerAuthentication(push, proxy);
  const authzResources = applicableTo(idx.authz, ns, labels);
  const requestResources = applicableTo(idx.request, ns, labels);
  const origins = [...peer.origins, ...authzResources.map(resourceKey), ...requestResources.map(resourceKey)];
  return {
    mtls: { mode: peer.mode, ...(peer.ports ? { ports: peer.ports } : {}) },
    authz: authzResources.map(convertAuthorizationPolicy),
    jwt: requestResources.flatMap((r) => convertJwtRules(idx, r)),
    ...(origins.length ? { origins } : {}),
  };
}

/** Gateways: policies whose selector picks the gateway's labels, and selector-less ones in the
 *  root namespace (mesh-wide). A selector-less policy of an app namespace does not reach the
 *  gateway: Istio runs it in istio-system, apart from the apps, and process mode runs it in
 *  `default` beside them (so Istio's `allow-nothing` in `default` leaves the edge open). */
function gatewayPolicy(push: PushContext, proxy: ProxyDescription): InboundPolicy | undefined {
  const idx = securityIndex(push);
  const ns = proxy.workload.namespace;
  const labels = proxy.workload.labels;
  const forGateway = <S extends { selector?: WorkloadSelector }>(r: Resource<S>) => hasSelector(r.spec.selector) || nsOf(r) === ROOT_NAMESPACE;
  const authzResources = applicableTo(idx.authz, ns, labels).filter(forGateway);
  const requestResources = applicableTo(idx.request, ns, labels).filter(forGateway);
  if (authzResources.length === 0 && requestResources.length === 0) return undefined;
  const peer = peerAuthentication(push, proxy);
  return {
    mtls: { mode: peer.mode, ...(peer.ports ? { ports: peer.ports } : {}) },
    authz: authzResources.map(convertAuthorizationPolicy),
    jwt: requestResources.flatMap((r) => convertJwtRules(idx, r)),
    origins: [...authzResources.map(resourceKey), ...requestResources.map(resourceKey)],
  };
}

/**
 * Auto mTLS: a cluster whose DestinationRule sets no TLS mode speaks mTLS to workloads with
 * sidecars, except when every instance behind the port has PeerAuthentication DISABLE (Istio
 * sends plaintext there; the server would not speak TLS). Returns new cluster objects.
 */
export function applyAutoMtls(push: PushContext, clusters: Cluster[]): Cluster[] {
  const { peer } = securityIndex(push);
  if (peer.length === 0) return clusters;
  return clusters.map((c) => {
    if (c.tls.mode !== 'ISTIO_MUTUAL' || !c.service || c.port === undefined) return c;
    const dr = push.destinationRule(c.service);
    const subset = c.subset ? subsetsOf(dr).find((s) => s.name === c.subset) : undefined;
    if (effectivePolicy(dr, c.port, subset).tls?.mode) return c;
    const instances = push.instances(c.service).filter((i) => i.servicePort === c.port && i.tlsMode === 'istio');
    if (instances.length === 0) return c;
    const allDisabled = instances.every((i) => {
      const fake: ProxyDescription = {
        proxyId: '', kind: 'sidecar',
        workload: { name: '', namespace: i.namespace, serviceAccount: i.serviceAccount, labels: i.labels ?? {}, services: [], ports: [{ name: 'p', port: i.servicePort, targetPort: i.servicePort, protocol: 'HTTP' }] },
        inbound: { address: '', port: 0 },
      };
      const m = peerAuthentication(push, fake);
      return (m.ports?.[String(c.port)] ?? m.mode) === 'DISABLE';
    });
    return allDisabled ? { ...c, tls: { mode: 'DISABLE' } } : c;
  });
}
