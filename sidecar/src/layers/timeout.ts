// The route timeout: one deadline over every attempt and backoff (Envoy's route timeout).
// When it fires the attempt in flight is cancelled and the client gets 504 UT.

import type { Exchange, Layer, ProxyResponse } from '../exchange.js';
import { discard, localResponse } from '../exchange.js';

/** Races `work` against `ms`; on expiry calls `onExpire` and answers 504 UT. A late answer is
 *  drained so its connection returns to the pool. */
export function withDeadline(ex: Exchange, work: Promise<ProxyResponse>, ms: number, onExpire: () => void): Promise<ProxyResponse> {
  return new Promise((resolve) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      onExpire();
      ex.cancelAttempt?.('timeout');
      resolve(localResponse(504, 'upstream request timeout\n', 'UT', 'timeout'));
    }, ms);
    work.then(
      (r) => {
        if (done) { discard(r); return; }
        done = true;
        clearTimeout(timer);
        resolve(r);
      },
      (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(localResponse(500, `proxy error: ${(err as Error).message}\n`));
      },
    );
  });
}

export function timeoutLayer(ms: number): Layer {
  return (next) => (ex) => withDeadline(ex, next(ex), ms, () => { ex.expired = true; });
}
