// Endpoint selection per attempt (so a retry can land elsewhere), with the per-endpoint
// counters LEAST_REQUEST and the admin's /clusters read. No healthy endpoint: 503 UH.

import type { Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';

export const balanceLayer: Layer = (next) => (ex) => {
  const cluster = ex.cluster;
  if (!cluster) return Promise.resolve(localResponse(503, 'no cluster\n', 'NR'));
  const e = cluster.balancer.pick();
  if (!e) return Promise.resolve(localResponse(503, 'no healthy upstream\n', 'UH', 'no-healthy-upstream'));
  ex.endpoint = e;
  ex.attempts++;
  const s = e.stats;
  s.active++;
  s.requests++;
  return next(ex).then((r) => {
    s.active--;
    if (r.failure === 'connect-failure') s.connectFailures++;
    if (r.status >= 500 && r.failure !== 'timeout') {
      s.failures++;
      s.consecutiveFailures++;
    } else {
      s.consecutiveFailures = 0;
    }
    return r;
  }, (err: unknown) => {
    s.active--;
    throw err;
  });
};
