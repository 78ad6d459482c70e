import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { readBody, route, router, sendJson, sendText } from '../lib/http-server.js';
import { args, canonicalHeaders, delaySeconds, origin, pickStatus } from './httpbin.js';

export function buildHttpbin(deps: { version: string }): RequestListener {
  const versionHeader = { 'x-service-version': deps.version };
  const reply = (res: ServerResponse, status: number, body: unknown) => sendJson(res, status, body, versionHeader, 2);
  const fullUrl = (req: IncomingMessage, url: URL) => `http://${req.headers.host ?? 'httpbin'}${url.pathname}${url.search}`;
  const getBody = (req: IncomingMessage, url: URL) => ({
    args: args(url.searchParams),
    headers: canonicalHeaders(req.headers),
    origin: origin(req.headers, req.socket.remoteAddress),
    url: fullUrl(req, url),
  });

  return router([
    route('GET', /^\/$/, ({ res }) => sendText(res, 200, `httpbin ${deps.version}: /get /headers /ip /status/{code} /delay/{s} /anything /user-agent /uuid /response-headers\n`, 'text/plain; charset=utf-8', versionHeader)),
    route('GET', /^\/health$/, ({ res }) => reply(res, 200, { status: 'httpbin is healthy', version: deps.version })),
    route('GET', /^\/get$/, ({ req, res, url }) => reply(res, 200, getBody(req, url))),
    route('GET', /^\/headers$/, ({ req, res }) => reply(res, 200, { headers: canonicalHeaders(req.headers) })),
    route('GET', /^\/ip$/, ({ req, res }) => reply(res, 200, { origin: origin(req.headers, req.socket.remoteAddress) })),
    route('GET', /^\/user-agent$/, ({ req, res }) => reply(res, 200, { 'user-agent': req.headers['user-agent'] ?? '' })),
    route('GET', /^\/uuid$/, ({ res }) => reply(res, 200, { uuid: randomUUID() })),
    route('*', /^\/status\/([^/]+)$/, ({ res, params }) => {
      const code = pickStatus(decodeURIComponent(params[0]!));
      if (code === undefined) return reply(res, 400, { error: `invalid status code list: ${params[0]}` });
      res.writeHead(code, { ...versionHeader, 'content-length': 0 });
      res.end();
    }),
    route('*', /^\/delay\/([^/]+)$/, ({ req, res, params, url }) => {
      const s = delaySeconds(params[0]!);
      if (s === undefined) return reply(res, 400, { error: `invalid delay: ${params[0]}` });
      const t = setTimeout(() => reply(res, 200, getBody(req, url)), s * 1000);
      // A client that gives up (a sidecar timeout) must not leave the timer behind.
      res.once('close', () => clearTimeout(t));
    }),
    route('GET', /^\/response-headers$/, ({ res, url }) => {
      const set = args(url.searchParams);
      const headers: Record<string, string | string[]> = { ...versionHeader };
      for (const [k, v] of Object.entries(set)) headers[k.toLowerCase()] = v;
      const text = JSON.stringify({ 'Content-Type': 'application/json', ...set }, null, 2);
      try {
        res.writeHead(200, { 'content-type': 'application/json', ...headers, 'content-length': Buffer.byteLength(text) });
      } catch (err) {
        return reply(res, 400, { error: `invalid header: ${err instanceof Error ? err.message : String(err)}` });
      }
      res.end(text);
    }),
    route('*', /^\/anything(?:\/.*)?$/, async ({ req, res, url }) => {
      const raw = (await readBody(req, 1024 * 1024)).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      let json: unknown = null;
      if (type.includes('json')) {
        try { json = JSON.parse(raw); } catch { json = null; }
      }
      const form = type.includes('application/x-www-form-urlencoded') ? args(new URLSearchParams(raw)) : {};
      reply(res, 200, { ...getBody(req, url), data: type.includes('application/x-www-form-urlencoded') ? '' : raw, files: {}, form, json, method: req.method });
    }),
  ]);
}
