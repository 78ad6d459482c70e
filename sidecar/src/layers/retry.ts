// Retries (VirtualService `retries`): decided on response headers, per attempt a fresh
// endpoint (the balancer sits below this layer), per-try timeout, jittered exponential
// backoff (Envoy: 25 ms base, 250 ms cap). Only bodies that can be replayed are retried: no
// body, or a small one buffered up front; a streamed body gets exactly one attempt.

import type { IncomingMessage } from 'node:http';
import type { CompiledRetry } from '../compile.js';
import type { Layer, ProxyResponse } from '../exchange.js';
import { discard, localResponse } from '../exchange.js';
import type { ClusterPool } from '../pool.js';
import { withDeadline } from './timeout.js';

export const RETRY_BACKOFF_BASE_MS = 25;
export const RETRY_BACKOFF_CAP_MS = 250;
/** Bodies up to this size are buffered so retries can replay them. */
export const RETRY_BUFFER_LIMIT = 64 * 1024;
/** http-proxy adds listeners to the client request per attempt; keep well under Node's 10. */
const MAX_ATTEMPTS = 6;

export function isRetriable(p: CompiledRetry, r: ProxyResponse): boolean {
  switch (r.failure) {
    case 'connect-failure': return p.onConnectFailure;
    case 'reset': return p.onReset;
    case 'timeout': return p.on5xx || p.onGatewayError || p.onReset;
    case 'no-healthy-upstream': case 'overflow': case 'downstream-gone': return false;
  }
  const s = r.status;
  if (p.codes.has(s)) return true;
  if (s >= 500 && p.on5xx) return true;
  if ((s === 502 || s === 503 || s === 504) && p.onGatewayError) return true;
  if (s === 409 && p.onRetriable4xx) return true;
  return false;
}

/** Fully jittered exponential backoff: random in [0, min(cap, base * 2^n)), at least 1 ms. */
export function backoffMs(retryIndex: number, random: number): number {
  const ceiling = Math.min(RETRY_BACKOFF_CAP_MS, RETRY_BACKOFF_BASE_MS * 2 ** retryIndex);
  return Math.max(1, Math.floor(random * ceiling));
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { req.destroy(); resolve(undefined); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', () => resolve(undefined));
    req.on('close', () => { if (!req.complete) resolve(undefined); });
  });
}

export interface RetryOptions {
  random?: () => number;
  /** Counts retries (stats). */
  onRetry?: () => void;
}

export function retryLayer(policy: CompiledRetry, opts: RetryOptions = {}): Layer {
  const random = opts.random ?? Math.random;
  return (next) => async (ex) => {
    let retries = Math.min(policy.retries, MAX_ATTEMPTS - 1);
    if (ex.hasBody && !ex.bufferedBody) {
      const len = Number(ex.headers['content-length']);
      if (Number.isInteger(len) && len > 0 && len <= RETRY_BUFFER_LIMIT) {
        const body = await readBody(ex.req, RETRY_BUFFER_LIMIT);
        if (!body) return localResponse(400, 'request body incomplete\n', 'DC', 'downstream-gone');
        ex.bufferedBody = body;
      } else {
        retries = 0;
      }
    }
    // A retry holds one of its cluster's maxRetries slots (circuit breaking) while it runs.
    let retrySlot: ClusterPool | undefined;
    for (let attempt = 0; ; attempt++) {
      let r: ProxyResponse;
      try {
        r = await (policy.perTryTimeoutMs > 0 ? withDeadline(ex, next(ex), policy.perTryTimeoutMs, () => {}) : next(ex));
      } finally {
        retrySlot?.retryDone();
        retrySlot = undefined;
      }
      if (ex.expired || ex.downstreamGone || !isRetriable(policy, r)) return r;
      if (attempt >= retries) {
        if (retries > 0) ex.flags.push('URX');
        return r;
      }
      const pool = ex.cluster?.pool;
      if (pool && !pool.tryRetry()) return r;
      retrySlot = pool;
      discard(r);
      opts.onRetry?.();
      await new Promise((res) => setTimeout(res, backoffMs(attempt, random())));
      if (ex.expired || ex.downstreamGone) {
        retrySlot?.retryDone();
        return localResponse(504, 'upstream request timeout\n', 'UT', 'timeout');
      }
    }
  };
}
