// Routes that answer from the proxy itself: redirects and direct responses.

import type { Exchange, ProxyResponse, Service } from '../exchange.js';
import type { RouteAction } from '#api';

export function directResponseService(action: Extract<RouteAction, { kind: 'redirect' } | { kind: 'direct' }>): Service {
  if (action.kind === 'direct') {
    const body = action.body ?? '';
    return () => Promise.resolve({ status: action.status, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }, body });
  }
  return (ex: Exchange) => {
    const scheme = action.scheme ?? 'http';
    let host = action.authority ?? ex.authority;
    if (action.port !== undefined) host = `${host.replace(/:\d+$/, '')}:${action.port}`;
    const path = action.uri ?? ex.path;
    const r: ProxyResponse = { status: action.code, headers: { location: `${scheme}://${host}${path}`, 'content-length': 0 }, body: '' };
    return Promise.resolve(r);
  };
}
