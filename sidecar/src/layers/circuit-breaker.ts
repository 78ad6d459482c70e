// Circuit breaking per attempt (DestinationRule connectionPool, see pool.ts): an attempt
// takes a slot of its cluster's pool, waits as pending when the pool is full, and overflows
// to 503 UO when the pending queue is full too. The slot is held until the upstream body
// ends, since an HTTP/1.1 connection is busy until then.

import type { Readable } from 'node:stream';
import type { Layer, ProxyResponse } from '../exchange.js';
import { localResponse } from '../exchange.js';

export function overflowResponse(): ProxyResponse {
  return localResponse(503, 'upstream connect error or disconnect/reset before headers. reset reason: overflow\n', 'UO', 'overflow');
}

/** Calls `release` once the response is over: at once for local bodies, at the end of a stream. */
export function releaseAfter(r: ProxyResponse, release: () => void): ProxyResponse {
  const body = r.body;
  if (!body || typeof body === 'string') {
    release();
    return r;
  }
  let done = false;
  const once = () => { if (!done) { done = true; release(); } };
  (body as Readable).once('end', once);
  (body as Readable).once('close', once);
  (body as Readable).once('error', once);
  return r;
}

export const circuitBreakerLayer: Layer = (next) => async (ex) => {
  const pool = ex.cluster?.pool;
  if (!pool) return next(ex);
  const slot = pool.acquire();
  if ('queued' in slot) {
    // A timeout or a client that leaves while queued takes the request out of the queue.
    ex.cancelAttempt = () => slot.cancel();
    const granted = await slot.queued;
    ex.cancelAttempt = undefined;
    if (!granted) return localResponse(504, 'upstream request timeout\n', 'UT', 'timeout');
  } else if (!slot.granted) {
    return overflowResponse();
  }
  let r: ProxyResponse;
  try {
    r = await next(ex);
  } catch (err) {
    pool.release();
    throw err;
  }
  return releaseAfter(r, () => pool.release());
};
