// The client workload: stays up and performs requests on demand, so tests and users can
// "curl from sleep": GET /fetch?url=http://httpbin:8000/headers&header=end-user:jason
import type { RequestListener } from 'node:http';
import { route, router, sendJson, sendText } from '../lib/http-server.js';
import { OutboundError, createClient, type OutboundClient } from '../lib/client.js';
import { proxyEnv } from '../lib/settings.js';
import { sleepSettings } from './settings.js';

export function parseHeaderParams(values: string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf(':');
    if (i <= 0) return `header "${v}": expected name:value`;
    out[v.slice(0, i).trim().toLowerCase()] = v.slice(i + 1).trim();
  }
  return out;
}

export function buildSleep(deps: { client: OutboundClient; maxTimeoutMs?: number }): RequestListener {
  const maxTimeout = deps.maxTimeoutMs ?? 60_000;
  return router([
    route('GET', /^\/health$/, ({ res }) => sendText(res, 200, 'sleep is healthy')),
    route('GET', /^\/fetch$/, async ({ res, url }) => {
      const target = url.searchParams.get('url');
      if (!target) return sendJson(res, 400, { error: 'query parameter "url" is required' });
      const headers = parseHeaderParams(url.searchParams.getAll('header'));
      if (typeof headers === 'string') return sendJson(res, 400, { error: headers });
      const timeoutMs = Math.min(Number(url.searchParams.get('timeoutMs') ?? 10_000) || 10_000, maxTimeout);
      const method = (url.searchParams.get('method') ?? 'GET').toUpperCase();
      const body = url.searchParams.get('body') ?? undefined;
      try {
        const r = await deps.client.request(target, { method, headers, timeoutMs, ...(body !== undefined ? { body } : {}) });
        sendJson(res, 200, { url: target, status: r.status, headers: r.headers, body: r.body });
      } catch (err) {
        const code = err instanceof OutboundError ? err.code : 'ERROR';
        sendJson(res, 502, { url: target, error: err instanceof Error ? err.message : String(err), code });
      }
    }),
  ]);
}

export function sleepFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const s = sleepSettings.load(proxyEnv(env));
  return { settings: s, listener: buildSleep({ client: createClient({ httpProxy: s.httpProxy, noProxy: s.noProxy }) }) };
}
