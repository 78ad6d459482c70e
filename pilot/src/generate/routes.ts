// HTTP routes: VirtualService http routes translated into ordered Route lists, the
// sidecar's outbound route configurations (one per service port), and inbound ones.
import {
  clusterName, hostAliases, protocolFromPortName,
  type CorsConfig, type CorsPolicy, type Destination, type FaultPolicy, type HeaderMatcher, type HeaderMutations,
  type HeaderOperations, type HTTPMatchRequest, type HTTPRoute, type Protocol, type Route, type RouteAction,
  type RouteConfiguration, type RouteMatch, type RetryPolicy, type Service, type StringMatch, type StringMatcher, type VirtualHost,
  type WeightedCluster,
} from '#api';
import type { ProxyDescription } from '../model/proxies.js';
import { MESH_GATEWAY, resolveGatewayRef, type PushContext, type ResolvedVirtualService } from '../model/push-context.js';
import { durationMs } from './duration.js';

/** Who is asking, for match conditions that filter at generation time. */
export interface RouteContext {
  /** `mesh` for sidecars; the `ns/name` of the Gateways bound to a gateway listener's port. */
  gateways: ReadonlySet<string>;
  proxyLabels: Record<string, string>;
  proxyNamespace: string;
  /** The port the route configuration serves (service port or gateway server port). */
  port: number;
}

/** Istio's default when a route sets no retries: 2 attempts on connection failures. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 2, retryOn: ['connect-failure', 'refused-stream'] };
/** Istio 1.1's retryOn when retries are set without one. */
const DEFAULT_RETRY_ON = ['gateway-error', 'connect-failure', 'refused-stream'];

export function isHttpProtocol(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
}

export function stringMatcher(m: StringMatch | undefined): StringMatcher | undefined {
  if (!m || typeof m !== 'object') return undefined;
  if (typeof m.exact === 'string') return { exact: m.exact };
  if (typeof m.prefix === 'string') return { prefix: m.prefix };
  if (typeof m.regex === 'string') return { regex: m.regex };
  return undefined;
}

function headerMatchers(map: Record<string, StringMatch> | undefined, invert: boolean): HeaderMatcher[] {
  const out: HeaderMatcher[] = [];
  for (const [name, m] of Object.entries(map ?? {})) {
    const match = stringMatcher(m);
    out.push({ name: name.toLowerCase(), ...(match ? { match } : {}), ...(invert ? { invert: true } : {}) });
  }
  return out;
}

export function translateMatch(m: HTTPMatchRequest | undefined): RouteMatch {
  const out: RouteMatch = { path: stringMatcher(m?.uri) ?? { prefix: '/' } };
  if (!m) return out;
  const headers = [...headerMatchers(m.headers, false), ...headerMatchers(m.withoutHeaders, true)];
  for (const [pseudo, sm] of [[':method', m.method], [':authority', m.authority], [':scheme', m.scheme]] as const) {
    const match = stringMatcher(sm);
    if (match) headers.push({ name: pseudo, match });
  }
  if (headers.length) out.headers = headers;
  const qp = Object.entries(m.queryParams ?? {}).map(([name, sm]) => {
    const match = stringMatcher(sm);
    return match ? { name, match } : { name };
  });
  if (qp.length) out.queryParams = qp;
  if (m.ignoreUriCase) out.ignoreCase = true;
  return out;
}

/** Conditions that Envoy cannot see per request are decided here, against the proxy. */
export function matchApplies(m: HTTPMatchRequest, ctx: RouteContext, vsNamespace: string): boolean {
  if (m.port !== undefined && m.port !== ctx.port) return false;
  if (Array.isArray(m.gateways) && m.gateways.length > 0) {
    if (!m.gateways.some((g) => ctx.gateways.has(resolveGatewayRef(g, vsNamespace)))) return false;
  }
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (ctx.proxyLabels[k] !== v) return false;
  if (m.sourceNamespace && m.sourceNamespace !== ctx.proxyNamespace) return false;
  return true;
}

/** The port a destination means: explicit, the service's only port, or the port being routed. */
export function destinationPort(dest: Destination, host: string, push: PushContext, contextPort: number): number {
  if (dest.port?.number) return dest.port.number;
  const svc = push.services.get(host);
  if (svc?.ports.length === 1) return svc.ports[0]!.port;
  if (svc?.ports.some((p) => p.port === contextPort)) return contextPort;
  return svc?.ports[0]?.port ?? contextPort;
}

export function destinationCluster(dest: Destination, vsNamespace: string, push: PushContext, contextPort: number): string {
  const host = push.resolveHost(dest.host, vsNamespace);
  return clusterName('outbound', destinationPort(dest, host, push, contextPort), dest.subset ?? '', host);
}

export function headerMutations(...ops: (HeaderOperations | undefined)[]): HeaderMutations | undefined {
  const out: HeaderMutations = {};
  for (const op of ops) {
    if (!op) continue;
    if (op.set && Object.keys(op.set).length) out.set = { ...out.set, ...op.set };
    if (op.add && Object.keys(op.add).length) out.add = { ...out.add, ...op.add };
    if (op.remove?.length) out.remove = [...new Set([...(out.remove ?? []), ...op.remove])];
  }
  return Object.keys(out).length ? out : undefined;
}

function percentOf(p: { percentage?: { value: number }; percent?: number }): number {
  if (typeof p.percentage?.value === 'number') return p.percentage.value;
  if (typeof p.percent === 'number') return p.percent;
  return 100;
}

export function faultPolicy(f: HTTPRoute['fault']): FaultPolicy | undefined {
  if (!f) return undefined;
  const out: FaultPolicy = {};
  const delay = durationMs(f.delay?.fixedDelay);
  if (f.delay && delay !== undefined) out.delay = { fixedDelayMs: delay, percent: percentOf(f.delay) };
  if (f.abort && typeof f.abort.httpStatus === 'number') out.abort = { httpStatus: f.abort.httpStatus, percent: percentOf(f.abort) };
  return out.delay || out.abort ? out : undefined;
}

export function corsConfig(c: CorsPolicy | undefined): CorsConfig | undefined {
  if (!c) return undefined;
  const origins: StringMatcher[] = [];
  for (const o of c.allowOrigins ?? []) { const m = stringMatcher(o); if (m) origins.push(m); }
  for (const o of c.allowOrigin ?? []) origins.push(o === '*' ? { prefix: '' } : { exact: o });
  if (!origins.length) return undefined;
  const out: CorsConfig = { allowOrigins: origins };
  if (c.allowMethods?.length) out.allowMethods = c.allowMethods;
  if (c.allowHeaders?.length) out.allowHeaders = c.allowHeaders;
  if (c.exposeHeaders?.length) out.exposeHeaders = c.exposeHeaders;
  const maxAge = durationMs(c.maxAge);
  if (maxAge !== undefined) out.maxAgeSeconds = Math.floor(maxAge / 1000);
  if (typeof c.allowCredentials === 'boolean') out.allowCredentials = c.allowCredentials;
  return out;
}

function retryPolicy(r: HTTPRoute['retries']): RetryPolicy | undefined {
  if (!r) return DEFAULT_RETRY;
  if (!r.attempts || r.attempts <= 0) return undefined;
  const out: RetryPolicy = {
    attempts: r.attempts,
    retryOn: r.retryOn ? r.retryOn.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_RETRY_ON,
  };
  const perTry = durationMs(r.perTryTimeout);
  if (perTry !== undefined) out.perTryTimeoutMs = perTry;
  return out;
}

function routeAction(http: HTTPRoute, vs: ResolvedVirtualService, push: PushContext, ctx: RouteContext): RouteAction | undefined {
  if (http.redirect) {
    const r = http.redirect;
    return {
      kind: 'redirect', code: r.redirectCode ?? 301,
      ...(r.uri !== undefined ? { uri: r.uri } : {}),
      ...(r.authority !== undefined ? { authority: r.authority } : {}),
      ...(r.port !== undefined ? { port: r.port } : {}),
      ...(r.scheme !== undefined ? { scheme: r.scheme } : {}),
    };
  }
  const dests = Array.isArray(http.route) ? http.route.filter((d) => d?.destination?.host) : [];
  if (!dests.length) return undefined;
  // Unweighted destinations share evenly (Istio requires weights when there are several).
  const anyWeight = dests.some((d) => typeof d.weight === 'number');
  const even = Math.floor(100 / dests.length);
  const clusters: WeightedCluster[] = dests.map((d, i) => {
    const wc: WeightedCluster = {
      name: destinationCluster(d.destination, vs.namespace, push, ctx.port),
      weight: anyWeight ? (d.weight ?? 0) : even + (i === 0 ? 100 - even * dests.length : 0),
    };
    const h = headerMutations(d.headers?.request);
    if (h) wc.headers = h;
    const rh = headerMutations(d.headers?.response);
    if (rh) wc.responseHeaders = rh;
    return wc;
  });
  const action: RouteAction = { kind: 'route', clusters };
  const timeout = durationMs(http.timeout);
  if (timeout !== undefined) action.timeoutMs = timeout;
  const retry = retryPolicy(http.retries);
  if (retry) action.retry = retry;
  if (http.rewrite && (http.rewrite.uri !== undefined || http.rewrite.authority !== undefined)) {
    action.rewrite = {
      ...(http.rewrite.uri !== undefined ? { uriPrefix: http.rewrite.uri } : {}),
      ...(http.rewrite.authority !== undefined ? { authority: http.rewrite.authority } : {}),
    };
  }
  if (http.mirror?.host) {
    const percent = typeof http.mirrorPercentage?.value === 'number' ? http.mirrorPercentage.value
      : typeof http.mirrorPercent === 'number' ? http.mirrorPercent : 100;
    action.mirror = { cluster: destinationCluster(http.mirror, vs.namespace, push, ctx.port), percent };
  }
  return action;
}

/** One VirtualService's http routes for a context; each match block becomes its own Route. */
export function translateVirtualService(vs: ResolvedVirtualService, push: PushContext, ctx: RouteContext): Route[] {
  const out: Route[] = [];
  (vs.spec.http ?? []).forEach((http, index) => {
    if (!http || typeof http !== 'object') return;
    const action = routeAction(http, vs, push, ctx);
    if (!action) return;
    const matches = Array.isArray(http.match) && http.match.length ? http.match : [undefined];
    const base: Omit<Route, 'match'> = { name: http.name ?? `${vs.key}#${index}`, action, origin: { virtualService: vs.key, index } };
    const fault = faultPolicy(http.fault);
    if (fault) base.fault = fault;
    const cors = corsConfig(http.corsPolicy);
    if (cors) base.cors = cors;
    const reqHeaders = headerMutations(http.headers?.request, { add: http.appendHeaders }, { add: http.appendRequestHeaders, remove: http.removeRequestHeaders });
    if (reqHeaders) base.requestHeaders = reqHeaders;
    const respHeaders = headerMutations(http.headers?.response, { add: http.appendResponseHeaders, remove: http.removeResponseHeaders });
    if (respHeaders) base.responseHeaders = respHeaders;
    for (const m of matches) {
      // A match block filtered out for this proxy is dropped, never widened to match-all.
      if (m && !matchApplies(m, ctx, vs.namespace)) continue;
      const { name, ...rest } = base;
      out.push({ name, match: translateMatch(m), ...rest });
    }
  });
  return out;
}

export function defaultRoute(cluster: string): Route {
  return {
    name: 'default',
    match: { path: { prefix: '/' } },
    action: { kind: 'route', clusters: [{ name: cluster, weight: 100 }], retry: DEFAULT_RETRY },
  };
}

/** Sidecar outbound: per HTTP service port a route configuration named by the port. */
export function buildOutboundRoutes(push: PushContext, proxy: ProxyDescription, visible: (svc: Service) => boolean = () => true): RouteConfiguration[] {
  const byPort = new Map<number, VirtualHost[]>();
  for (const svc of push.services.values()) {
    if (!visible(svc)) continue;
    for (const p of svc.ports) {
      if (!isHttpProtocol(p.protocol)) continue;
      const ctx: RouteContext = { gateways: new Set([MESH_GATEWAY]), proxyLabels: proxy.workload.labels, proxyNamespace: proxy.workload.namespace, port: p.port };
      const vss = push.virtualServicesForHost(svc.hostname);
      let routes = vss.flatMap((vs) => translateVirtualService(vs, push, ctx));
      // No VirtualService: straight to the service. With one, only its routes count (as in Istio).
      if (!vss.length) routes = [defaultRoute(clusterName('outbound', p.port, '', svc.hostname))];
      const list = byPort.get(p.port) ?? [];
      list.push({ name: `${svc.hostname}:${p.port}`, domains: hostAliases(svc.hostname, p.port), routes });
      byPort.set(p.port, list);
    }
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, vhosts]) => ({ name: String(port), virtualHosts: vhosts.sort((a, b) => a.name.localeCompare(b.name)) }));
}

export function inboundName(port: number): string {
  return `inbound|${port}||`;
}

/** Sidecar inbound: every request on a workload port goes to the local app. */
export function buildInboundRoutes(proxy: ProxyDescription): RouteConfiguration[] {
  return proxy.workload.ports
    .filter((p) => isHttpProtocol(p.protocol ?? protocolFromPortName(p.name, 'HTTP')))
    .map((p) => ({
      name: inboundName(p.port),
      virtualHosts: [{
        name: `inbound|http|${p.port}`,
        domains: ['*'],
        routes: [{ name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'route', clusters: [{ name: inboundName(p.port), weight: 100 }] } }],
      }],
    }));
}
