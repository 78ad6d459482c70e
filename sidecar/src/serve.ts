// The bridge from a Node request to the layer stack and back: runs the stack, writes the
// response (always ending it), streams upstream bodies, and when the client leaves early
// cancels the attempt and destroys the upstream stream (http-proxy leaks those sockets).

import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Exchange, ProxyResponse, Service } from './exchange.js';
import { localResponse } from './exchange.js';

export function serveExchange(ex: Exchange, service: Service, res: ServerResponse, log: Logger): void {
  let upstreamBody: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
  res.once('close', () => {
    if (!res.writableFinished) {
      ex.downstreamGone = true;
      if (!ex.flags.includes('DC')) ex.flags.push('DC');
      ex.cancelAttempt?.('downstream-gone');
      upstreamBody?.destroy?.();
    }
    const status = ex.downstreamGone && !res.headersSent ? 0 : res.statusCode;
    for (const fn of ex.onEnd) {
      try { fn(ex, status); } catch (err) { log.warn({ err }, 'exchange end hook failed'); }
    }
  });

  const write = (r: ProxyResponse): void => {
    if (r.flag && !ex.flags.includes(r.flag)) ex.flags.push(r.flag);
    const body = r.body;
    if (ex.downstreamGone || res.destroyed) {
      if (body && typeof body !== 'string') body.destroy();
      return;
    }
    try {
      res.writeHead(r.status, r.headers);
    } catch (err) {
      log.warn({ err, status: r.status }, 'could not write response head');
      if (body && typeof body !== 'string') body.destroy();
      res.destroy();
      return;
    }
    if (body === undefined || typeof body === 'string') {
      ex.responseBytes = body ? Buffer.byteLength(body) : 0;
      res.end(ex.method === 'HEAD' ? undefined : body);
      return;
    }
    upstreamBody = body;
    body.on('data', (chunk: Buffer) => { ex.responseBytes += chunk.length; });
    // The upstream reset mid-body: the client must see a broken response, not a short one.
    body.on('error', () => {
      if (!ex.flags.includes('UC')) ex.flags.push('UC');
      res.destroy();
    });
    body.pipe(res);
  };

  let p: Promise<ProxyResponse>;
  try {
    p = service(ex);
  } catch (err) {
    p = Promise.reject(err);
  }
  p.then(write, (err: unknown) => {
    log.error({ err, path: ex.path }, 'proxy layer failed');
    write(localResponse(500, 'internal proxy error\n'));
  });
}
