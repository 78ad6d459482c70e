// A tiny router and response helpers over node:http (the demo apps take no dependencies).
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Captures of the route's pattern. */
  params: string[];
  url: URL;
}

export interface Route {
  /** `*` matches any method. */
  method: string;
  path: RegExp;
  handle(ctx: RouteContext): void | Promise<void>;
}

export function route(method: string, path: RegExp, handle: Route['handle']): Route {
  return { method, path, handle };
}

export function router(routes: Route[]): RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://service.local');
    let pathMatched = false;
    for (const r of routes) {
      const m = r.path.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== '*' && r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      Promise.resolve()
        .then(() => r.handle({ req, res, params: m.slice(1), url }))
        .catch((err: unknown) => {
          const status = (err as { statusCode?: number }).statusCode ?? 500;
          if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
          else res.destroy();
        });
      return;
    }
    if (pathMatched) sendJson(res, 405, { error: `method ${req.method} not allowed on ${url.pathname}` });
    else sendJson(res, 404, { error: `not found: ${url.pathname}` });
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, indent?: number): void {
  const text = JSON.stringify(body, null, indent);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(302, { location, 'content-length': 0, ...headers });
  res.end();
}

export class BodyTooLargeError extends Error {
  readonly statusCode = 413;
}

export function readBody(req: IncomingMessage, limitBytes = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limitBytes) {
        reject(new BodyTooLargeError(`request body over ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface RunningService {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(listener: RequestListener, port: number, bind: string): Promise<RunningService> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
    port: addr.port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Entry points: listen, log one line, stop cleanly on SIGTERM/SIGINT (containers send SIGTERM). */
export async function runService(name: string, listener: RequestListener, port: number, bind: string): Promise<void> {
  const svc = await listen(listener, port, bind);
  console.log(JSON.stringify({ level: 'info', service: name, msg: `${name} listening on ${bind}:${svc.port}` }));
  const stop = () => { void svc.close().then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
