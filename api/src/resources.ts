// Istio's configuration resources, with Istio's field names. These are the shapes users write;
// galley validates them and publishes them, pilot turns them into proxy config.
// Only the fields the mesh understands are typed; unknown fields survive as data.

/** Where a document begins in its file (1-based). */
export interface SourceRef {
  file: string;
  line: number;
  column?: number;
}

export interface ObjectMeta {
  name: string;
  /** Defaults to `default`, as in Kubernetes. */
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Resource<S = Record<string, unknown>> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: S;
  source?: SourceRef;
}

export type ResourceOf<K extends keyof KindSpecs> = Resource<KindSpecs[K]>;

/** `VirtualService/default/reviews` */
export function resourceKey(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
}

// ---------- networking.istio.io ----------

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface PortSelector {
  number: number;
}

export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}

export interface Percent {
  value: number;
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>;
  withoutHeaders?: Record<string, StringMatch>;
  queryParams?: Record<string, StringMatch>;
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
  ignoreUriCase?: boolean;
}

export interface HTTPRouteDestination {
  destination: Destination;
  weight?: number;
  headers?: Headers;
}

export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  port?: number;
  scheme?: string;
  redirectCode?: number;
}

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
}

export interface HTTPRetry {
  attempts: number;
  perTryTimeout?: string;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
}

export interface HTTPFaultInjection {
  delay?: { fixedDelay?: string; percentage?: Percent; /** Istio 1.1 */ percent?: number };
  abort?: { httpStatus?: number; percentage?: Percent; /** Istio 1.1 */ percent?: number };
}

export interface CorsPolicy {
  allowOrigins?: StringMatch[];
  /** Istio 1.1 */
  allowOrigin?: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: string;
  allowCredentials?: boolean;
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  redirect?: HTTPRedirect;
  rewrite?: HTTPRewrite;
  timeout?: string;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: Destination;
  mirrorPercentage?: Percent;
  /** Istio 1.1 */
  mirrorPercent?: number;
  corsPolicy?: CorsPolicy;
  headers?: Headers;
  /** Istio 1.1 */
  appendHeaders?: Record<string, string>;
  /** Istio 1.1 */
  removeResponseHeaders?: string[];
  /** Istio 1.1 */
  appendResponseHeaders?: Record<string, string>;
  /** Istio 1.1 */
  removeRequestHeaders?: string[];
  /** Istio 1.1 */
  appendRequestHeaders?: Record<string, string>;
}

export interface L4MatchAttributes {
  destinationSubnets?: string[];
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
}

export interface RouteDestination {
  destination: Destination;
  weight?: number;
}

export interface TCPRoute {
  match?: L4MatchAttributes[];
  route?: RouteDestination[];
}

export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  http?: HTTPRoute[];
  tcp?: TCPRoute[];
  tls?: Record<string, unknown>[];
  exportTo?: string[];
}

export type LoadBalancerSimple = 'ROUND_ROBIN' | 'LEAST_CONN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' | 'UNSPECIFIED';

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: { name: string; path?: string; ttl?: string };
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  minimumRingSize?: number;
}

export interface LoadBalancerSettings {
  simple?: LoadBalancerSimple;
  consistentHash?: ConsistentHashLB;
}

export interface ConnectionPoolSettings {
  tcp?: { maxConnections?: number; connectTimeout?: string };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: string;
  };
}

export interface OutlierDetection {
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  /** Istio 1.1 */
  consecutiveErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export type ClientTLSMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

export interface ClientTLSSettings {
  mode?: ClientTLSMode;
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  subjectAltNames?: string[];
  sni?: string;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: (Omit<TrafficPolicy, 'portLevelSettings'> & { port?: PortSelector })[];
}

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
}

export interface GatewayPort {
  number: number;
  name?: string;
  protocol: string;
}

export interface GatewayServer {
  port: GatewayPort;
  hosts: string[];
  bind?: string;
  name?: string;
  tls?: Record<string, unknown>;
}

export interface GatewaySpec {
  selector?: Record<string, string>;
  servers: GatewayServer[];
}

export interface ServicePortSpec {
  number: number;
  protocol?: string;
  name?: string;
  targetPort?: number;
}

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServicePortSpec[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: string;
  locality?: string;
  weight?: number;
  serviceAccount?: string;
}

/** networking.istio.io Sidecar: what a proxy's outbound config covers, and its outbound policy. */
export interface IstioEgressListener {
  port?: ServicePortSpec;
  bind?: string;
  // `namespace/dnsName`: `./*` (the Sidecar's namespace), `istio-system/*`, any namespace
  // with `*` before the slash, `~/*` (nothing).
  hosts: string[];
}

export interface SidecarSpec {
  workloadSelector?: { labels?: Record<string, string> };
  egress?: IstioEgressListener[];
  ingress?: Record<string, unknown>[];
  outboundTrafficPolicy?: { mode?: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
}

export interface KindSpecs {
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  Gateway: GatewaySpec;
  ServiceEntry: ServiceEntrySpec;
  WorkloadEntry: WorkloadEntrySpec;
  Sidecar: SidecarSpec;
}

/**
 * Istio 1.1's Mixer adapter kinds (config.istio.io/v1alpha2): each is a handler written in
 * the adapter's own kind (`kind: memquota`), the shape Istio 1.1's samples use.
 */
export const mixerAdapterKinds: readonly string[] = [
  'bypass', 'circonus', 'cloudwatch', 'denier', 'dogstatsd', 'fluentd', 'kubernetesenv', 'listchecker', 'memquota',
  'noop', 'opa', 'prometheus', 'rbac', 'redisquota', 'servicecontrol', 'signalfx', 'solarwinds', 'stackdriver',
  'statsd', 'stdio', 'zipkin',
];

/** Istio 1.1's Mixer template kinds (config.istio.io/v1alpha2): an instance in the template's kind (`kind: metric`). */
export const mixerTemplateKinds: readonly string[] = [
  'apikey', 'authorization', 'checknothing', 'edge', 'kubernetes', 'listentry', 'logentry', 'metric', 'quota',
  'reportnothing', 'servicecontrolreport', 'tracespan',
];

/** Kinds this mesh understands, by API group, with the versions accepted. */
export const knownKinds: Record<string, { group: string; versions: string[] }> = {
  VirtualService: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  DestinationRule: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  Gateway: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  ServiceEntry: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  WorkloadEntry: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  Sidecar: { group: 'networking.istio.io', versions: ['v1alpha3', 'v1beta1', 'v1'] },
  PeerAuthentication: { group: 'security.istio.io', versions: ['v1beta1', 'v1'] },
  AuthorizationPolicy: { group: 'security.istio.io', versions: ['v1beta1', 'v1'] },
  RequestAuthentication: { group: 'security.istio.io', versions: ['v1beta1', 'v1'] },
  handler: { group: 'config.istio.io', versions: ['v1alpha2'] },
  instance: { group: 'config.istio.io', versions: ['v1alpha2'] },
  rule: { group: 'config.istio.io', versions: ['v1alpha2'] },
  QuotaSpec: { group: 'config.istio.io', versions: ['v1alpha2'] },
  QuotaSpecBinding: { group: 'config.istio.io', versions: ['v1alpha2'] },
  ...Object.fromEntries(['attributemanifest', 'HTTPAPISpec', 'HTTPAPISpecBinding', 'adapter', 'template']
    .map((k) => [k, { group: 'config.istio.io', versions: ['v1alpha2'] }])),
  ...Object.fromEntries([...mixerAdapterKinds, ...mixerTemplateKinds].map((k) => [k, { group: 'config.istio.io', versions: ['v1alpha2'] }])),
};
