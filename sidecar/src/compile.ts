// Config apply, the pure half: ProxyConfig -> an immutable compiled form the hot path reads
// with map lookups only. Throws ConfigError (a NACK) on any invalid value or dangling
// reference, so a bad push never replaces the config being served. No sockets, no timers:
// the benchmark runs this in simulated proxies.

import {
  compileRouteConfiguration, compileStringMatcher, parseSpiffeId,
  type Cluster, type CompiledRouteConfiguration, type ConnectionPoolConfig, type CorsConfig, type Endpoint, type FaultPolicy,
  type HeaderMutations, type Listener, type ProxyConfig, type Route, type RouteConfiguration,
} from '#api';
import type { Agent } from 'node:http';
import { createBalancer, newEndpointStats, type Balancer, type EndpointRef, type EndpointStats } from './balancer.js';
import type { Service } from './exchange.js';
import { OutlierDetector } from './outlier.js';
import { ClusterPool, poolLimits } from './pool.js';

export type { EndpointRef } from './balancer.js';

/** Stable codes for NACK reasons (`SC01xx`), so pilot's NACKED status reads like a diagnosis. */
export const configErrorCodes = {
  shape: 'SC0100',
  wrongProxy: 'SC0101',
  duplicate: 'SC0102',
  unknownCluster: 'SC0103',
  invalidValue: 'SC0104',
  invalidMatcher: 'SC0105',
  unknownRouteConfig: 'SC0106',
  unknownEndpointCluster: 'SC0107',
  bindFailed: 'SC0108',
} as const;

export class ConfigError extends Error {
  constructor(readonly code: string, readonly place: string, message: string) {
    super(`[${code}] (${place}) ${message}`);
    this.name = 'ConfigError';
  }
}

export interface CompiledRetry {
  /** Retries after the first attempt. */
  retries: number;
  perTryTimeoutMs: number;
  on5xx: boolean;
  onGatewayError: boolean;
  onConnectFailure: boolean;
  onReset: boolean;
  onRetriable4xx: boolean;
  codes: ReadonlySet<number>;
}

export interface RouteTarget {
  cluster: CompiledCluster;
  weight: number;
  headers?: HeaderMutations;
  responseHeaders?: HeaderMutations;
}

export interface CompiledRoute {
  name: string;
  route: Route;
  virtualHost: string;
  kind: 'route' | 'redirect' | 'direct';
  targets: RouteTarget[];
  totalWeight: number;
  timeoutMs: number;
  retry?: CompiledRetry;
  fault?: FaultPolicy;
  requestHeaders?: HeaderMutations;
  responseHeaders?: HeaderMutations;
  /** Traffic mirroring: a copy of the request goes to this cluster, its answer is dropped. */
  mirror?: { cluster: CompiledCluster; percent: number };
  cors?: CorsConfig;
  /** Runtime cache: the layer chain built for this route on first use (compile leaves it unset). */
  chain?: Service;
}

export interface CompiledRouteTable {
  name: string;
  matcher: CompiledRouteConfiguration;
  routes: Map<Route, CompiledRoute>;
}

export interface CompiledCluster {
  name: string;
  def: Cluster;
  /** Service FQDN (`reviews.default.svc.cluster.local`), `unknown` for inbound/passthrough. */
  service: string;
  serviceName: string;
  serviceNamespace: string;
  endpoints: EndpointRef[];
  balancer: Balancer;
  /** Upstream speaks mTLS with a workload certificate. */
  mtls: boolean;
  /** SPIFFE ids a server in this cluster may present (empty: any cert the roots verify). */
  allowedSans: ReadonlySet<string>;
  /** Equal keys can share a connection pool: TLS settings and allowed identities. */
  poolKey: string;
  /** Passive health, when the cluster has outlierDetection. */
  outlier?: OutlierDetector;
  /** Circuit breakers, when the cluster has a connectionPool with limits. */
  pool?: ClusterPool;
  /** Runtime cache of the keep-alive agent (see agents.ts). */
  agent?: Agent;
  agentGeneration?: number;
}

export interface CompiledConfig {
  version: string;
  config: ProxyConfig;
  routeTables: Map<string, CompiledRouteTable>;
  clusters: Map<string, CompiledCluster>;
  /** Gateway listeners by their logical (Gateway server) port. */
  gatewayListeners: Map<number, Listener>;
  inbound?: Listener;
  outbound?: Listener;
  /** Envoy's PassthroughCluster: plain HTTP to the host the app named (ALLOW_ANY). */
  passthrough: CompiledCluster;
}

export interface CompileOptions {
  /** When set, a config for another node is refused. */
  proxyId?: string;
  /** Counters that survive pushes, by endpoint key; default: fresh counters. */
  statsFor?: (key: string) => EndpointStats;
  /** Circuit-breaker pools that survive pushes, by cluster name; default: fresh pools. */
  poolFor?: (cluster: string, cp: ConnectionPoolConfig) => ClusterPool;
  random?: () => number;
  now?: () => number;
}

const LB = new Set(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH']);
const TLS_MODES = new Set(['DISABLE', 'ISTIO_MUTUAL', 'SIMPLE', 'MUTUAL']);
const CLUSTER_TYPES = new Set(['EDS', 'STATIC', 'ORIGINAL_DST']);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const RETRY_ON = new Set(['5xx', 'gateway-error', 'connect-failure', 'retriable-4xx', 'refused-stream', 'reset', 'retriable-status-codes', 'cancelled', 'unavailable', 'deadline-exceeded', 'resource-exhausted']);
const LISTENER_KINDS = new Set(['outbound', 'inbound', 'gateway']);

function fail(code: keyof typeof configErrorCodes, place: string, message: string): never {
  throw new ConfigError(configErrorCodes[code], place, message);
}

function isArray(v: unknown, place: string): asserts v is unknown[] {
  if (!Array.isArray(v)) fail('shape', place, 'expected a list');
}

function checkPort(n: unknown, place: string, allowZero = false): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) fail('invalidValue', place, `invalid port ${JSON.stringify(n)}`);
}

function checkNonNegative(n: unknown, place: string): void {
  if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < 0)) fail('invalidValue', place, `expected a non-negative number, got ${JSON.stringify(n)}`);
}

function checkPercent(n: unknown, place: string): void {
  if (typeof n !== 'number' || !(n >= 0 && n <= 100)) fail('invalidValue', place, `expected a percentage 0-100, got ${JSON.stringify(n)}`);
}

function checkMutations(m: HeaderMutations | undefined, place: string): void {
  if (m === undefined) return;
  if (typeof m !== 'object' || m === null) fail('shape', place, 'expected header mutations');
  for (const key of ['set', 'add'] as const) {
    const v = m[key];
    if (v === undefined) continue;
    for (const [name, value] of Object.entries(v)) {
      if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) fail('invalidValue', place, `invalid header name ${JSON.stringify(name)}`);
      if (typeof value !== 'string' || /[\r\n\0]/.test(value)) fail('invalidValue', place, `invalid value for header ${name}`);
    }
  }
  if (m.remove !== undefined) isArray(m.remove, `${place}.remove`);
}

function splitService(host: string): { name: string; namespace: string } {
  const parts = host.split('.');
  if (host.endsWith('.svc.cluster.local') && parts.length >= 2) return { name: parts[0]!, namespace: parts[1]! };
  return { name: host, namespace: '' };
}

export function compileRetry(r: NonNullable<Extract<Route['action'], { kind: 'route' }>['retry']>, place: string): CompiledRetry | undefined {
  if (!Number.isInteger(r.attempts) || r.attempts < 0) fail('invalidValue', `${place}.retry.attempts`, `expected a non-negative integer, got ${JSON.stringify(r.attempts)}`);
  checkNonNegative(r.perTryTimeoutMs, `${place}.retry.perTryTimeoutMs`);
  isArray(r.retryOn, `${place}.retry.retryOn`);
  if (r.attempts === 0) return undefined;
  const on = new Set<string>();
  const codes = new Set<number>();
  for (const raw of r.retryOn) {
    const v = String(raw).trim();
    if (/^\d{3}$/.test(v)) codes.add(Number(v));
    else if (RETRY_ON.has(v)) on.add(v);
    else fail('invalidValue', `${place}.retry.retryOn`, `unknown retry condition ${JSON.stringify(v)}`);
  }
  return {
    retries: r.attempts,
    perTryTimeoutMs: r.perTryTimeoutMs ?? 0,
    on5xx: on.has('5xx'),
    onGatewayError: on.has('gateway-error'),
    onConnectFailure: on.has('connect-failure') || on.has('5xx') || on.has('gateway-error'),
    // refused-stream is HTTP/2's reset-before-processing; over HTTP/1.1 a reset is the closest.
    onReset: on.has('reset') || on.has('5xx') || on.has('refused-stream'),
    onRetriable4xx: on.has('retriable-4xx'),
    codes,
  };
}

function compileCluster(c: Cluster, endpoints: Endpoint[], opts: CompileOptions, place: string): CompiledCluster {
  if (typeof c.name !== 'string' || !c.name) fail('shape', place, 'cluster without a name');
  if (!CLUSTER_TYPES.has(c.type)) fail('invalidValue', `${place}.type`, `unknown cluster type ${JSON.stringify(c.type)}`);
  if (!LB.has(c.lbPolicy)) fail('invalidValue', `${place}.lbPolicy`, `unknown load balancer ${JSON.stringify(c.lbPolicy)}`);
  if (!c.tls || !TLS_MODES.has(c.tls.mode)) fail('invalidValue', `${place}.tls.mode`, `unknown TLS mode ${JSON.stringify(c.tls?.mode)}`);
  checkNonNegative(c.connectTimeoutMs, `${place}.connectTimeoutMs`);
  const statsFor = opts.statsFor ?? (() => newEndpointStats());
  const service = c.service ?? 'unknown';
  const { name: serviceName, namespace: serviceNamespace } = splitService(service);
  const mtls = c.tls.mode === 'ISTIO_MUTUAL';
  const sans = new Set<string>(c.tls.subjectAltNames ?? []);
  const refs: EndpointRef[] = endpoints.map((e, i) => {
    const ep = `${place}.endpoints[${i}]`;
    if (typeof e.address !== 'string' || !e.address) fail('invalidValue', ep, 'endpoint without an address');
    checkPort(e.port, `${ep}.port`);
    // Without cluster-level SANs, each endpoint's own identity is what it may present.
    if (mtls && !c.tls.subjectAltNames?.length && e.identity) sans.add(e.identity);
    const key = `${c.name}|${e.address}:${e.port}`;
    const spiffe = e.identity ? parseSpiffeId(e.identity) : undefined;
    return {
      key,
      endpoint: e,
      stats: statsFor(key),
      destination: {
        workload: e.workload ?? 'unknown',
        namespace: spiffe?.namespace ?? (serviceNamespace || 'unknown'),
        app: e.labels?.app ?? 'unknown',
        version: e.labels?.version ?? 'unknown',
        principal: mtls ? (e.identity ?? '') : '',
      },
    };
  });
  checkOutlier(c, place);
  checkConnectionPool(c, place);
  checkConsistentHash(c, place);
  const out: CompiledCluster = {
    name: c.name,
    def: c,
    service,
    serviceName,
    serviceNamespace,
    endpoints: refs,
    balancer: createBalancer(c.lbPolicy, refs, {
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(c.consistentHash ? { consistentHash: c.consistentHash } : {}),
      // Without outlier detection, past ejections no longer count.
      ...(c.outlier ? { minHealthPercent: c.outlier.minHealthPercent } : { ignoreEjections: true }),
    }),
    mtls,
    allowedSans: sans,
    poolKey: `${c.tls.mode}|${c.tls.sni ?? ''}|${[...sans].sort().join(',')}`,
  };
  if (c.outlier) out.outlier = new OutlierDetector(c.outlier, refs, opts.now);
  if (c.connectionPool) {
    const l = poolLimits(c.connectionPool);
    if (l.maxActive !== Infinity || l.maxPending !== Infinity || l.maxRetries !== Infinity) {
      out.pool = opts.poolFor ? opts.poolFor(c.name, c.connectionPool) : new ClusterPool(c.connectionPool);
    }
  }
  return out;
}

function checkOutlier(c: Cluster, place: string): void {
  const o = c.outlier;
  if (!o) return;
  if (typeof o !== 'object') fail('shape', `${place}.outlier`, 'expected an object');
  for (const k of ['consecutive5xx', 'consecutiveGatewayErrors', 'intervalMs', 'baseEjectionTimeMs'] as const) checkNonNegative(o[k], `${place}.outlier.${k}`);
  checkPercent(o.maxEjectionPercent, `${place}.outlier.maxEjectionPercent`);
  checkPercent(o.minHealthPercent, `${place}.outlier.minHealthPercent`);
}

function checkConnectionPool(c: Cluster, place: string): void {
  const p = c.connectionPool;
  if (!p) return;
  if (typeof p !== 'object') fail('shape', `${place}.connectionPool`, 'expected an object');
  for (const [k, v] of Object.entries(p)) checkNonNegative(v, `${place}.connectionPool.${k}`);
}

function checkConsistentHash(c: Cluster, place: string): void {
  const h = c.consistentHash;
  if (!h) return;
  if (typeof h !== 'object') fail('shape', `${place}.consistentHash`, 'expected an object');
  if (!h.header && !h.cookie && !h.sourceIp && !h.queryParameter) fail('invalidValue', `${place}.consistentHash`, 'needs a header, cookie, sourceIp or queryParameter');
  if (h.cookie && (typeof h.cookie.name !== 'string' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(h.cookie.name))) fail('invalidValue', `${place}.consistentHash.cookie.name`, 'invalid cookie name');
  checkNonNegative(h.cookie?.ttlMs, `${place}.consistentHash.cookie.ttlMs`);
  checkNonNegative(h.minimumRingSize, `${place}.consistentHash.minimumRingSize`);
}

/** Envoy's PassthroughCluster: no endpoints of its own, plain HTTP to the original destination. */
export function passthroughCluster(): CompiledCluster {
  const def: Cluster = { name: 'PassthroughCluster', type: 'ORIGINAL_DST', protocol: 'HTTP', lbPolicy: 'PASSTHROUGH', connectTimeoutMs: 10_000, tls: { mode: 'DISABLE' } };
  return {
    name: def.name, def, service: 'unknown', serviceName: 'unknown', serviceNamespace: '', endpoints: [],
    balancer: createBalancer('PASSTHROUGH', []), mtls: false, allowedSans: new Set(), poolKey: 'DISABLE||',
  };
}

function compileRoute(route: Route, vhost: string, clusters: Map<string, CompiledCluster>, place: string): CompiledRoute {
  if (!route || typeof route !== 'object' || !route.action || !route.match) fail('shape', place, 'route needs match and action');
  const a = route.action;
  const out: CompiledRoute = { name: route.name, route, virtualHost: vhost, kind: a.kind, targets: [], totalWeight: 0, timeoutMs: 0 };
  if (a.kind === 'route') {
    isArray(a.clusters, `${place}.action.clusters`);
    if (a.clusters.length === 0) fail('invalidValue', `${place}.action.clusters`, 'route has no destination');
    for (const wc of a.clusters) {
      const cluster = clusters.get(wc.name);
      if (!cluster) fail('unknownCluster', `${place}.action.clusters`, `unknown cluster ${JSON.stringify(wc.name)}`);
      checkNonNegative(wc.weight, `${place}.action.clusters[${wc.name}].weight`);
      checkMutations(wc.headers, `${place}.action.clusters[${wc.name}].headers`);
      checkMutations(wc.responseHeaders, `${place}.action.clusters[${wc.name}].responseHeaders`);
      const t: RouteTarget = { cluster, weight: wc.weight ?? 0 };
      if (wc.headers) t.headers = wc.headers;
      if (wc.responseHeaders) t.responseHeaders = wc.responseHeaders;
      out.targets.push(t);
      out.totalWeight += t.weight;
    }
    checkNonNegative(a.timeoutMs, `${place}.action.timeoutMs`);
    out.timeoutMs = a.timeoutMs ?? 0;
    if (a.retry) {
      const r = compileRetry(a.retry, `${place}.action`);
      if (r) out.retry = r;
    }
    if (a.mirror) {
      const mirror = clusters.get(a.mirror.cluster);
      if (!mirror) fail('unknownCluster', `${place}.action.mirror`, `unknown cluster ${JSON.stringify(a.mirror.cluster)}`);
      checkPercent(a.mirror.percent, `${place}.action.mirror.percent`);
      if (a.mirror.percent > 0) out.mirror = { cluster: mirror, percent: a.mirror.percent };
    }
    if (a.rewrite?.uriPrefix !== undefined && !a.rewrite.uriPrefix.startsWith('/')) {
      fail('invalidValue', `${place}.action.rewrite.uriPrefix`, 'must start with /');
    }
  } else if (a.kind === 'redirect') {
    if (!REDIRECT_CODES.has(a.code)) fail('invalidValue', `${place}.action.code`, `invalid redirect code ${JSON.stringify(a.code)}`);
    if (a.port !== undefined) checkPort(a.port, `${place}.action.port`);
  } else if (a.kind === 'direct') {
    if (!Number.isInteger(a.status) || a.status < 200 || a.status > 599) fail('invalidValue', `${place}.action.status`, `invalid status ${JSON.stringify(a.status)}`);
  } else {
    fail('invalidValue', `${place}.action.kind`, `unknown action ${JSON.stringify((a as { kind: unknown }).kind)}`);
  }
  if (route.fault) {
    if (route.fault.delay) {
      checkNonNegative(route.fault.delay.fixedDelayMs, `${place}.fault.delay.fixedDelayMs`);
      checkPercent(route.fault.delay.percent, `${place}.fault.delay.percent`);
    }
    if (route.fault.abort) {
      const s = route.fault.abort.httpStatus;
      if (!Number.isInteger(s) || s < 200 || s > 599) fail('invalidValue', `${place}.fault.abort.httpStatus`, `invalid status ${JSON.stringify(s)}`);
      checkPercent(route.fault.abort.percent, `${place}.fault.abort.percent`);
    }
    out.fault = route.fault;
  }
  if (route.cors) {
    isArray(route.cors.allowOrigins, `${place}.cors.allowOrigins`);
    try {
      for (const m of route.cors.allowOrigins) compileStringMatcher(m);
    } catch (err) {
      fail('invalidMatcher', `${place}.cors.allowOrigins`, (err as Error).message);
    }
    checkNonNegative(route.cors.maxAgeSeconds, `${place}.cors.maxAgeSeconds`);
    out.cors = route.cors;
  }
  checkMutations(route.requestHeaders, `${place}.requestHeaders`);
  checkMutations(route.responseHeaders, `${place}.responseHeaders`);
  if (route.requestHeaders) out.requestHeaders = route.requestHeaders;
  if (route.responseHeaders) out.responseHeaders = route.responseHeaders;
  return out;
}

function compileTable(rc: RouteConfiguration, clusters: Map<string, CompiledCluster>, place: string): CompiledRouteTable {
  isArray(rc.virtualHosts, `${place}.virtualHosts`);
  const routes = new Map<Route, CompiledRoute>();
  const vhostNames = new Set<string>();
  for (const vh of rc.virtualHosts) {
    const vp = `${place}.virtualHosts[${vh?.name}]`;
    if (!vh || typeof vh.name !== 'string') fail('shape', vp, 'virtual host without a name');
    if (vhostNames.has(vh.name)) fail('duplicate', vp, `duplicate virtual host ${JSON.stringify(vh.name)}`);
    vhostNames.add(vh.name);
    isArray(vh.domains, `${vp}.domains`);
    isArray(vh.routes, `${vp}.routes`);
    vh.routes.forEach((r, i) => routes.set(r, compileRoute(r, vh.name, clusters, `${vp}.routes[${r?.name ?? i}]`)));
  }
  let matcher: CompiledRouteConfiguration;
  try {
    matcher = compileRouteConfiguration(rc);
  } catch (err) {
    fail('invalidMatcher', place, (err as Error).message);
  }
  return { name: rc.name, matcher, routes };
}

/** Compiles a pushed config, or throws ConfigError naming the first problem. */
export function compileProxyConfig(config: ProxyConfig, version: string, opts: CompileOptions = {}): CompiledConfig {
  if (!config || typeof config !== 'object') fail('shape', 'config', 'expected an object');
  if (!config.node || typeof config.node.id !== 'string') fail('shape', 'node', 'missing node');
  if (opts.proxyId !== undefined && config.node.id !== opts.proxyId) {
    fail('wrongProxy', 'node.id', `config is for ${JSON.stringify(config.node.id)}, this proxy is ${JSON.stringify(opts.proxyId)}`);
  }
  isArray(config.listeners, 'listeners');
  isArray(config.routes, 'routes');
  isArray(config.clusters, 'clusters');
  isArray(config.endpoints, 'endpoints');

  const endpointsByCluster = new Map<string, Endpoint[]>();
  const clusterNames = new Set(config.clusters.map((c) => c?.name));
  config.endpoints.forEach((cla, i) => {
    const place = `endpoints[${cla?.cluster ?? i}]`;
    if (!cla || typeof cla.cluster !== 'string') fail('shape', place, 'load assignment without a cluster');
    if (!clusterNames.has(cla.cluster)) fail('unknownEndpointCluster', place, `endpoints for unknown cluster ${JSON.stringify(cla.cluster)}`);
    isArray(cla.endpoints, `${place}.endpoints`);
    endpointsByCluster.set(cla.cluster, [...(endpointsByCluster.get(cla.cluster) ?? []), ...cla.endpoints]);
  });

  const clusters = new Map<string, CompiledCluster>();
  for (const c of config.clusters) {
    const place = `clusters[${c?.name}]`;
    if (!c || typeof c !== 'object') fail('shape', place, 'expected a cluster');
    if (clusters.has(c.name)) fail('duplicate', place, `duplicate cluster ${JSON.stringify(c.name)}`);
    clusters.set(c.name, compileCluster(c, endpointsByCluster.get(c.name) ?? [], opts, place));
  }

  const routeTables = new Map<string, CompiledRouteTable>();
  for (const rc of config.routes) {
    const place = `routes[${rc?.name}]`;
    if (!rc || typeof rc.name !== 'string') fail('shape', place, 'route configuration without a name');
    if (routeTables.has(rc.name)) fail('duplicate', place, `duplicate route configuration ${JSON.stringify(rc.name)}`);
    routeTables.set(rc.name, compileTable(rc, clusters, place));
  }

  const gatewayListeners = new Map<number, Listener>();
  if (config.outboundTrafficPolicy !== undefined && config.outboundTrafficPolicy !== 'ALLOW_ANY' && config.outboundTrafficPolicy !== 'REGISTRY_ONLY') {
    fail('invalidValue', 'outboundTrafficPolicy', `expected ALLOW_ANY or REGISTRY_ONLY, got ${JSON.stringify(config.outboundTrafficPolicy)}`);
  }
  const out: CompiledConfig = { version, config, routeTables, clusters, gatewayListeners, passthrough: passthroughCluster() };
  const listenerNames = new Set<string>();
  for (const l of config.listeners) {
    const place = `listeners[${l?.name}]`;
    if (!l || typeof l.name !== 'string') fail('shape', place, 'listener without a name');
    if (listenerNames.has(l.name)) fail('duplicate', place, `duplicate listener ${JSON.stringify(l.name)}`);
    listenerNames.add(l.name);
    if (!LISTENER_KINDS.has(l.kind)) fail('invalidValue', `${place}.kind`, `unknown listener kind ${JSON.stringify(l.kind)}`);
    checkPort(l.port, `${place}.port`, true);
    if (l.routeConfig !== undefined && !routeTables.has(l.routeConfig)) {
      fail('unknownRouteConfig', `${place}.routeConfig`, `unknown route configuration ${JSON.stringify(l.routeConfig)}`);
    }
    if (l.cluster !== undefined && !clusters.has(l.cluster)) fail('unknownCluster', `${place}.cluster`, `unknown cluster ${JSON.stringify(l.cluster)}`);
    if (l.weightedClusters !== undefined) {
      isArray(l.weightedClusters, `${place}.weightedClusters`);
      for (const w of l.weightedClusters) {
        if (!clusters.has(w?.name)) fail('unknownCluster', `${place}.weightedClusters`, `unknown cluster ${JSON.stringify(w?.name)}`);
        checkNonNegative(w.weight, `${place}.weightedClusters[${w.name}].weight`);
      }
    }
    if (l.kind === 'gateway') {
      if (l.routeConfig === undefined) fail('unknownRouteConfig', `${place}.routeConfig`, 'gateway listener without a route configuration');
      if (gatewayListeners.has(l.port)) fail('duplicate', place, `two gateway listeners on port ${l.port}`);
      gatewayListeners.set(l.port, l);
    } else if (l.kind === 'inbound') {
      out.inbound = l;
    } else if (l.protocol !== 'TCP') {
      // TCP listeners (one per TCP service port) are read by tcp/outbound.ts from the config.
      out.outbound = l;
    }
  }
  return out;
}

/** Picks a route's weighted target; `random` in [0, 1). */
export function pickTarget(route: CompiledRoute, random: number): RouteTarget | undefined {
  const t = route.targets;
  if (t.length <= 1) return t[0];
  if (route.totalWeight <= 0) return t[0];
  let point = random * route.totalWeight;
  for (const x of t) {
    point -= x.weight;
    if (point < 0) return x;
  }
  return t[t.length - 1];
}
