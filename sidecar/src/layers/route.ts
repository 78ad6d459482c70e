// Route selection: the compiled route table for this listener, the virtual host by
// authority, the first matching route (the matcher pilot's simulator shares), and the
// weighted destination. No table, host or route: 404 NR, as Envoy answers.

import type { Exchange, Layer, ProxyResponse } from '../exchange.js';
import { localResponse } from '../exchange.js';
import { pickTarget, type CompiledRouteTable } from '../compile.js';

export interface RouteLayerOptions {
  /** The route table that applies to this exchange (by destination port, by listener...). */
  table: (ex: Exchange) => CompiledRouteTable | undefined;
  scheme?: 'http' | 'https';
  random?: () => number;
  /** Requests for a host no virtual host knows (outbound: ALLOW_ANY passthrough or
   *  REGISTRY_ONLY's 502); absent: 404 NR. */
  unknownHost?: (ex: Exchange) => Promise<ProxyResponse>;
}

export function routeLayer(opts: RouteLayerOptions): Layer {
  const random = opts.random ?? Math.random;
  const scheme = opts.scheme ?? 'http';
  return (next) => (ex) => {
    const table = opts.table(ex);
    if (!table) {
      if (opts.unknownHost) return opts.unknownHost(ex);
      return Promise.resolve(localResponse(404, 'no route configuration for this port\n', 'NR'));
    }
    ex.table = table;
    const hit = table.matcher.find({ method: ex.method, path: ex.path, authority: ex.authority, scheme, headers: ex.headers });
    if (!hit) {
      if (opts.unknownHost && !table.matcher.virtualHost(ex.authority)) return opts.unknownHost(ex);
      return Promise.resolve(localResponse(404, 'no route\n', 'NR'));
    }
    const route = table.routes.get(hit.route)!;
    ex.route = route;
    if (route.kind === 'route') {
      const target = pickTarget(route, random());
      if (target) {
        ex.target = target;
        ex.cluster = target.cluster;
      }
      const a = route.route.action;
      if (a.kind === 'route' && a.rewrite) rewrite(ex, a.rewrite, route.route.match.path);
    }
    return next(ex);
  };
}

function rewrite(ex: Exchange, rw: { uriPrefix?: string; authority?: string }, matched: { prefix: string } | { exact: string } | { regex: string } | undefined): void {
  if (rw.uriPrefix !== undefined) {
    const q = ex.path.indexOf('?');
    const path = q < 0 ? ex.path : ex.path.slice(0, q);
    const query = q < 0 ? '' : ex.path.slice(q);
    // Envoy: a prefix match replaces the matched prefix; any other match replaces the path.
    const rest = matched && 'prefix' in matched ? path.slice(matched.prefix.length) : '';
    let next = rw.uriPrefix + rest;
    if (next.includes('//')) next = next.replace(/\/{2,}/g, '/');
    ex.path = (next || '/') + query;
  }
  if (rw.authority !== undefined) ex.headers.host = rw.authority;
}
