// CORS (VirtualService `corsPolicy`), Envoy's cors filter: a preflight (OPTIONS with Origin
// and Access-Control-Request-Method) from an allowed origin is answered by the proxy; other
// requests from an allowed origin get the allow/expose headers on their response. Requests
// from other origins pass through untouched (the browser enforces the missing headers).

import { compileStringMatcher, type CorsConfig } from '#api';
import type { Layer } from '../exchange.js';

export function corsLayer(c: CorsConfig): Layer {
  const tests = c.allowOrigins.map((m) => compileStringMatcher(m));
  const allowed = (origin: string) => tests.some((t) => t(origin));
  return (next) => async (ex) => {
    const origin = ex.headers.origin;
    if (typeof origin !== 'string' || !allowed(origin)) return next(ex);
    if (ex.method === 'OPTIONS' && ex.headers['access-control-request-method'] !== undefined) {
      const headers: Record<string, string | number> = { 'access-control-allow-origin': origin, 'content-length': 0 };
      if (c.allowMethods?.length) headers['access-control-allow-methods'] = c.allowMethods.join(',');
      if (c.allowHeaders?.length) headers['access-control-allow-headers'] = c.allowHeaders.join(',');
      if (c.maxAgeSeconds !== undefined) headers['access-control-max-age'] = String(c.maxAgeSeconds);
      if (c.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      if (c.exposeHeaders?.length) headers['access-control-expose-headers'] = c.exposeHeaders.join(',');
      return { status: 200, headers, body: '' };
    }
    const r = await next(ex);
    r.headers['access-control-allow-origin'] = origin;
    if (c.allowCredentials) r.headers['access-control-allow-credentials'] = 'true';
    if (c.exposeHeaders?.length) r.headers['access-control-expose-headers'] = c.exposeHeaders.join(',');
    return r;
  };
}
