// What pilot sends a proxy: its whole configuration, shaped like Envoy's (listeners,
// routes, clusters, endpoints) so that `meshctl proxy-config` reads like istioctl's.
// Pilot produces it with a pure function; the sidecar applies it as one immutable unit.

import type { Protocol } from './registry.js';

export type ProxyKind = 'sidecar' | 'gateway';

/** Who the proxy is, as pilot saw it announce itself. */
export interface ProxyNode {
  id: string;
  kind: ProxyKind;
  workload: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
}

export type StringMatcher =
  | { exact: string }
  | { prefix: string }
  | { regex: string };

export interface HeaderMatcher {
  /** Lower case. Pseudo-headers `:authority`, `:method`, `:scheme`, `:path` are allowed. */
  name: string;
  match?: StringMatcher;
  /** true: matches when the header is absent or does not match (withoutHeaders). */
  invert?: boolean;
}

export interface QueryParamMatcher {
  name: string;
  match?: StringMatcher;
}

export interface RouteMatch {
  /** Absent: any path. */
  path?: StringMatcher;
  headers?: HeaderMatcher[];
  queryParams?: QueryParamMatcher[];
  ignoreCase?: boolean;
}

export interface WeightedCluster {
  name: string;
  weight: number;
  headers?: HeaderMutations;
  /** Response header mutations for answers from this destination (VirtualService
   *  `route[].headers.response`). */
  responseHeaders?: HeaderMutations;
}

export interface RetryPolicy {
  attempts: number;
  perTryTimeoutMs?: number;
  /** Envoy's retry_on values (`5xx`, `gateway-error`, `connect-failure`, `retriable-4xx`,
   *  `refused-stream`, `reset`, `retriable-status-codes`) and bare status codes. */
  retryOn: string[];
}

export interface HeaderMutations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface FaultPolicy {
  delay?: { fixedDelayMs: number; percent: number };
  abort?: { httpStatus: number; percent: number };
}

export interface MirrorPolicy {
  cluster: string;
  percent: number;
}

export interface CorsConfig {
  allowOrigins: StringMatcher[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
}

export type RouteAction =
  | {
      kind: 'route';
      clusters: WeightedCluster[];
      /** Covers every attempt. 0 or absent: no timeout. */
      timeoutMs?: number;
      retry?: RetryPolicy;
      rewrite?: { uriPrefix?: string; authority?: string };
      mirror?: MirrorPolicy;
    }
  | { kind: 'redirect'; uri?: string; authority?: string; port?: number; scheme?: string; code: number }
  | { kind: 'direct'; status: number; body?: string };

export interface Route {
  /** `reviews.default.svc.cluster.local:9080/0`-style or the VirtualService route's name. */
  name: string;
  match: RouteMatch;
  action: RouteAction;
  fault?: FaultPolicy;
  cors?: CorsConfig;
  requestHeaders?: HeaderMutations;
  responseHeaders?: HeaderMutations;
  /** Which resource produced this route, for `meshctl x describe` and debugging. */
  origin?: { virtualService?: string; index?: number };
}

export interface VirtualHost {
  /** `reviews.default.svc.cluster.local:9080` */
  name: string;
  /** Envoy domain rules: exact, `*.suffix`, `prefix*`, or `*`. Lower case. */
  domains: string[];
  routes: Route[];
}

export interface RouteConfiguration {
  /** Outbound: the port (`9080`); gateway: `http.8080`; inbound: `inbound|9080||`. */
  name: string;
  virtualHosts: VirtualHost[];
}

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH';

export interface ClusterTls {
  mode: 'DISABLE' | 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL';
  /** For ISTIO_MUTUAL: the SPIFFE ids a server may present (from the registry). */
  subjectAltNames?: string[];
  sni?: string;
  /** SIMPLE and MUTUAL (DestinationRule tls): files in the proxy's filesystem, PEM. Without
   *  caCertificates the server is verified against the system roots. */
  caCertificates?: string;
  /** MUTUAL: the client certificate (chain) and its key the proxy presents. */
  clientCertificate?: string;
  privateKey?: string;
}

export interface OutlierConfig {
  consecutive5xx?: number;
  consecutiveGatewayErrors?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

export interface ConnectionPoolConfig {
  maxConnections?: number;
  connectTimeoutMs?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRequestsPerConnection?: number;
  maxRetries?: number;
  idleTimeoutMs?: number;
}

export interface ConsistentHashConfig {
  header?: string;
  cookie?: { name: string; path?: string; ttlMs?: number };
  sourceIp?: boolean;
  queryParameter?: string;
  minimumRingSize?: number;
}

export interface Cluster {
  /** `outbound|9080|v1|reviews.default.svc.cluster.local` or `inbound|9080||`. */
  name: string;
  /** EDS: endpoints come from `endpoints`; STATIC: inline; ORIGINAL_DST: passthrough. */
  type: 'EDS' | 'STATIC' | 'ORIGINAL_DST';
  /** The service hostname (absent for inbound/passthrough clusters). */
  service?: string;
  port?: number;
  subset?: string;
  protocol: Protocol;
  lbPolicy: LbPolicy;
  consistentHash?: ConsistentHashConfig;
  connectTimeoutMs: number;
  tls: ClusterTls;
  outlier?: OutlierConfig;
  connectionPool?: ConnectionPoolConfig;
  /** The DestinationRule (`default/reviews`) whose policy this cluster carries, for
   *  `meshctl x describe`. */
  destinationRule?: string;
}

export interface Endpoint {
  address: string;
  port: number;
  /** Labels of the workload, for subset selection already applied by pilot; kept for display. */
  labels?: Record<string, string>;
  /** The workload behind this endpoint, for telemetry and describe. */
  workload?: string;
  /** The SPIFFE id the endpoint's sidecar will present. */
  identity?: string;
  healthy: boolean;
  weight?: number;
}

export interface ClusterLoadAssignment {
  cluster: string;
  endpoints: Endpoint[];
}

export type ListenerKind = 'outbound' | 'inbound' | 'gateway';

export interface Listener {
  /** `virtualOutbound`, `virtualInbound`, `0.0.0.0_8080` for a gateway port. */
  name: string;
  kind: ListenerKind;
  /** The logical port: 15001/15006 for sidecars, the Gateway server port for gateways. */
  port: number;
  protocol: Protocol;
  /** HTTP listeners: which route configuration they route by; for outbound the route
   *  configuration is chosen by the destination port (`9080`), so this is absent. */
  routeConfig?: string;
  /** TCP listeners forward to one cluster. */
  cluster?: string;
  /** TCP listeners: the service hostname they front (`tcp-echo.default.svc.cluster.local`),
   *  so a proxy finds the listener for a `host:port` its app connects to. */
  service?: string;
  /** TCP listeners with a VirtualService `tcp` route: weighted destinations (Envoy's tcp_proxy
   *  weighted_clusters); when present, `cluster` is the first of them. */
  weightedClusters?: { name: string; weight: number }[];
  /** Inbound: the peer authentication mode in force. */
  mtlsMode?: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** Gateways: the hosts its servers accept. */
  hosts?: string[];
  /** Gateways: TLS termination on this port, one entry per Gateway server; the client's SNI
   *  picks the entry (exact host, then `*.suffix`, then `*`). Absent: plain HTTP. */
  tls?: GatewayTlsServer[];
  /** Gateways, plain ports: hosts whose requests get a 301 to https (server tls.httpsRedirect). */
  httpsRedirectHosts?: string[];
}

/** A Gateway server's TLS settings as the gateway proxy reads them: file paths and a
 *  credential name, never key material (config dumps show it). */
export interface GatewayTlsServer {
  hosts: string[];
  /** SIMPLE: server certificate only; MUTUAL: client certificates required and verified. */
  mode: 'SIMPLE' | 'MUTUAL';
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  /** Resolved by the gateway in its credential folder: `<name>.crt`/`.key` or `<name>/tls.crt`,`tls.key` (`ca.crt`). */
  credentialName?: string;
  /** MUTUAL: accepted client certificate SANs (empty: any the CA signed). */
  subjectAltNames?: string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
}

export interface ProxyConfig {
  node: ProxyNode;
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  /** Outbound traffic to hosts the registry does not know. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Sidecars: what the inbound listener enforces (see InboundPolicy). Absent: STRICT, no authorization. */
  inboundPolicy?: InboundPolicy;
}

// ---------- inbound security policy (PeerAuthentication, AuthorizationPolicy, RequestAuthentication) ----------

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** Istio's string match in authorization: exact, `prefix*`, `*suffix`, or `*` (present). */
export type AuthzStringMatch = { exact: string } | { prefix: string } | { suffix: string } | { presence: true };

/** `from.source`: every field present must match (AND); values inside a field are OR. */
export interface AuthzSource {
  /** Peer principals without `spiffe://` (`cluster.local/ns/default/sa/sleep`), from mTLS. */
  principals?: AuthzStringMatch[];
  notPrincipals?: AuthzStringMatch[];
  /** `iss/sub` of a validated JWT. */
  requestPrincipals?: AuthzStringMatch[];
  notRequestPrincipals?: AuthzStringMatch[];
  /** The peer's namespace, from its certificate. */
  namespaces?: AuthzStringMatch[];
  notNamespaces?: AuthzStringMatch[];
  /** CIDRs or single addresses of the connection's peer. */
  ipBlocks?: string[];
  notIpBlocks?: string[];
}

/** `to.operation`. Ports are the workload's ports (service port or target port both match). */
export interface AuthzOperation {
  hosts?: AuthzStringMatch[];
  notHosts?: AuthzStringMatch[];
  ports?: number[];
  notPorts?: number[];
  methods?: AuthzStringMatch[];
  notMethods?: AuthzStringMatch[];
  /** Matched against the normalised path without the query string. */
  paths?: AuthzStringMatch[];
  notPaths?: AuthzStringMatch[];
}

/** `when`: key as Istio writes it (`request.headers[x-token]`, `source.ip`,
 *  `request.auth.claims[groups]`, `destination.port`...). */
export interface AuthzCondition {
  key: string;
  values?: AuthzStringMatch[];
  notValues?: AuthzStringMatch[];
}

/** One Istio rule: any `from` AND any `to` AND every `when`; an absent list matches anything. */
export interface AuthzRule {
  from?: AuthzSource[];
  to?: AuthzOperation[];
  when?: AuthzCondition[];
}

export interface AuthzPolicy {
  /** `AuthorizationPolicy/<ns>/<name>`, for logs and the deny body. */
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT';
  /** ALLOW with no rules allows nothing (`spec: {}` denies all); DENY with none denies nothing. */
  rules: AuthzRule[];
}

export interface JwtRule {
  issuer: string;
  /** Absent or empty: any audience. */
  audiences?: string[];
  /** JWKS JSON (inline, or read by pilot from a file). Absent: the sidecar fetches `jwksUri`. */
  jwks?: string;
  /** `http://` URL fetched by the sidecar through its own outbound listener (inside the mesh). */
  jwksUri?: string;
  /** Where the token is; default `Authorization: Bearer`. */
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  forwardOriginalToken?: boolean;
  outputPayloadToHeader?: string;
  /** `RequestAuthentication/<ns>/<name>` */
  origin: string;
}

export interface InboundPolicy {
  /** The mode for the workload, and overrides by service port (`"9080"`). */
  mtls: { mode: MtlsMode; ports?: Record<string, MtlsMode> };
  /** Evaluated DENY first, then ALLOW; AUDIT only logs. */
  authz: AuthzPolicy[];
  jwt: JwtRule[];
  /** Istio's pathNormalization for `%2F`/`%5C`: REJECT (400, the default) or DECODE to `/`. */
  pathNormalization?: { escapedSlashes: 'REJECT' | 'DECODE' };
  /** Which resources produced this policy, for `meshctl` and debugging. */
  origins?: string[];
}
