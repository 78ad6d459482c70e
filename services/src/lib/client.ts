// Outbound HTTP for the demo apps. With HTTP_PROXY set (process mode: the sidecar's outbound
// listener) requests go to the proxy in absolute form with Host naming the target, the way
// curl does; without it they connect directly (compose mode: iptables captures them).
import http from 'node:http';

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export class OutboundError extends Error {
  constructor(readonly code: 'TIMEOUT' | 'CONNECT' | 'BAD_URL' | 'TOO_LARGE' | 'RESET', message: string) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundClient {
  request(url: string, opts?: OutboundRequest): Promise<OutboundResponse>;
  get(url: string, opts?: Omit<OutboundRequest, 'method' | 'body'>): Promise<OutboundResponse>;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

function bypassesProxy(host: string, noProxy: string[]): boolean {
  const h = host.toLowerCase();
  return noProxy.some((p) => p === '*' || p === h || (p.startsWith('.') ? h.endsWith(p) : h.endsWith(`.${p}`)));
}

export function createClient(opts: { httpProxy?: string; noProxy?: string; defaultTimeoutMs?: number } = {}): OutboundClient {
  const proxy = opts.httpProxy ? new URL(opts.httpProxy.includes('://') ? opts.httpProxy : `http://${opts.httpProxy}`) : undefined;
  const noProxy = (opts.noProxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? 10_000;

  const request = (rawUrl: string, r: OutboundRequest = {}): Promise<OutboundResponse> => new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(rawUrl);
    } catch {
      reject(new OutboundError('BAD_URL', `not a URL: ${rawUrl}`));
      return;
    }
    if (target.protocol !== 'http:') {
      reject(new OutboundError('BAD_URL', `only http:// URLs are supported (the mesh adds TLS): ${rawUrl}`));
      return;
    }
    const viaProxy = proxy && !bypassesProxy(target.hostname, noProxy);
    const headers: Record<string, string> = { ...r.headers, host: target.host };
    if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
    const timeoutMs = r.timeoutMs ?? defaultTimeoutMs;
    const req = http.request({
      host: viaProxy ? proxy.hostname : target.hostname,
      port: viaProxy ? Number(proxy.port || 80) : Number(target.port || 80),
      method: r.method ?? 'GET',
      // Absolute form tells the proxy where the request is going.
      path: viaProxy ? target.href : `${target.pathname}${target.search}`,
      headers,
      // Bookinfo does not pool on purpose: each call may land on another version.
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new OutboundError('TIMEOUT', `no response from ${target.host} within ${timeoutMs} ms`)), timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new OutboundError('TOO_LARGE', `response from ${target.host} over ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
    req.on('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      if (err instanceof OutboundError) reject(err);
      else if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EHOSTUNREACH') {
        reject(new OutboundError('CONNECT', `cannot connect to ${viaProxy ? `proxy ${proxy.host}` : target.host}: ${err.code}`));
      } else reject(new OutboundError('RESET', `${target.host}: ${err.message}`));
    });
    req.end(r.body);
  });

  return {
    request,
    get: (url, o = {}) => request(url, { ...o, method: 'GET' }),
  };
}
