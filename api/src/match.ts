// The route matcher: the one piece of logic pilot's simulator and the sidecar must share
// exactly, so a simulated request reaches the route a real one would.
// Compile once per config push; match per request with no allocation beyond the result.

import type { HeaderMatcher, Route, RouteConfiguration, StringMatcher, VirtualHost, WeightedCluster } from './proxy-config.js';

/** A request as the matcher sees it. Header names lower case. */
export interface RequestFacts {
  method: string;
  /** Path with query, as forwarded (already normalised by the proxy). */
  path: string;
  /** Host header / :authority, with port if the client sent one. */
  authority: string;
  scheme: 'http' | 'https';
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RouteHit {
  virtualHost: VirtualHost;
  route: Route;
}

type Test = (req: RequestFacts, path: string, query: URLSearchParams | undefined) => boolean;

function compileString(m: StringMatcher, ignoreCase = false): (v: string) => boolean {
  if ('exact' in m) {
    const want = ignoreCase ? m.exact.toLowerCase() : m.exact;
    return ignoreCase ? (v) => v.toLowerCase() === want : (v) => v === want;
  }
  if ('prefix' in m) {
    const want = ignoreCase ? m.prefix.toLowerCase() : m.prefix;
    return ignoreCase ? (v) => v.toLowerCase().startsWith(want) : (v) => v.startsWith(want);
  }
  // Envoy's safe_regex is a full match (RE2); anchor it.
  const re = new RegExp(`^(?:${m.regex})$`, ignoreCase ? 'i' : '');
  return (v) => re.test(v);
}

/** A string matcher as a predicate (the same semantics routes use: regex is a full match). */
export function compileStringMatcher(m: StringMatcher, ignoreCase = false): (v: string) => boolean {
  return compileString(m, ignoreCase);
}

function headerValue(req: RequestFacts, name: string): string | undefined {
  switch (name) {
    case ':authority': return req.authority;
    case ':method': return req.method;
    case ':scheme': return req.scheme;
    case ':path': return req.path;
  }
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function compileHeader(h: HeaderMatcher): Test {
  const test = h.match ? compileString(h.match) : () => true;
  return (req) => {
    const v = headerValue(req, h.name);
    const hit = v !== undefined && test(v);
    return h.invert ? !hit : hit;
  };
}

export function compileRoute(route: Route): Test {
  const tests: Test[] = [];
  const m = route.match;
  if (m.path) {
    const t = compileString(m.path, m.ignoreCase);
    tests.push((_req, path) => t(path));
  }
  for (const h of m.headers ?? []) tests.push(compileHeader(h));
  for (const q of m.queryParams ?? []) {
    const t = q.match ? compileString(q.match) : () => true;
    tests.push((_req, _path, query) => {
      const v = query?.get(q.name);
      return v !== null && v !== undefined && t(v);
    });
  }
  return (req, path, query) => tests.every((t) => t(req, path, query));
}

function domainMatcher(domain: string): { rank: number; test: (host: string) => boolean } {
  // Envoy's order: exact, then longest suffix wildcard, then prefix wildcard, then `*`.
  if (domain === '*') return { rank: 3, test: () => true };
  if (domain.startsWith('*')) {
    const suffix = domain.slice(1);
    return { rank: 1, test: (h) => h.endsWith(suffix) && h.length > suffix.length };
  }
  if (domain.endsWith('*')) {
    const prefix = domain.slice(0, -1);
    return { rank: 2, test: (h) => h.startsWith(prefix) && h.length > prefix.length };
  }
  return { rank: 0, test: (h) => h === domain };
}

export interface CompiledRouteConfiguration {
  name: string;
  find(req: RequestFacts): RouteHit | undefined;
  virtualHost(authority: string): VirtualHost | undefined;
}

/** Compiles a route configuration into a matcher. Exact domains are a map lookup. */
export function compileRouteConfiguration(rc: RouteConfiguration): CompiledRouteConfiguration {
  const exact = new Map<string, number>();
  const wild: { rank: number; length: number; index: number; test: (h: string) => boolean }[] = [];
  rc.virtualHosts.forEach((vh, index) => {
    for (const d of vh.domains) {
      const dm = domainMatcher(d.toLowerCase());
      if (dm.rank === 0) {
        if (!exact.has(d.toLowerCase())) exact.set(d.toLowerCase(), index);
      } else {
        wild.push({ rank: dm.rank, length: d.length, index, test: dm.test });
      }
    }
  });
  wild.sort((a, b) => a.rank - b.rank || b.length - a.length);
  const routeTests = rc.virtualHosts.map((vh) => vh.routes.map(compileRoute));

  const vhostIndex = (authority: string): number | undefined => {
    const host = authority.toLowerCase();
    const hit = exact.get(host);
    if (hit !== undefined) return hit;
    for (const w of wild) if (w.test(host)) return w.index;
    // A client may omit a default port, or add one the domain list lacks.
    const colon = host.lastIndexOf(':');
    if (colon > 0 && !host.endsWith(']')) return vhostIndex(host.slice(0, colon));
    return undefined;
  };

  return {
    name: rc.name,
    virtualHost(authority) {
      const i = vhostIndex(authority);
      return i === undefined ? undefined : rc.virtualHosts[i];
    },
    find(req) {
      const i = vhostIndex(req.authority);
      if (i === undefined) return undefined;
      const vh = rc.virtualHosts[i]!;
      const q = req.path.indexOf('?');
      const path = q < 0 ? req.path : req.path.slice(0, q);
      const query = q < 0 ? undefined : new URLSearchParams(req.path.slice(q + 1));
      const tests = routeTests[i]!;
      for (let r = 0; r < tests.length; r++) {
        if (tests[r]!(req, path, query)) return { virtualHost: vh, route: vh.routes[r]! };
      }
      return undefined;
    },
  };
}

/** Picks a weighted cluster; `random` in [0, 1) so tests can drive it. */
export function pickWeightedCluster(clusters: readonly WeightedCluster[], random: number = Math.random()): WeightedCluster | undefined {
  if (clusters.length <= 1) return clusters[0];
  let total = 0;
  for (const c of clusters) total += c.weight;
  if (total <= 0) return clusters[0];
  let point = random * total;
  for (const c of clusters) {
    point -= c.weight;
    if (point < 0) return c;
  }
  return clusters[clusters.length - 1];
}
