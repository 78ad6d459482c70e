// Plain counters the admin API and the Prometheus collector read. Incremented once per
// exchange at its end; never formatted on the request path.

import type { Direction, Exchange, Layer } from './exchange.js';

export interface ProxyCounters {
  requests: Record<Direction, number>;
  responses: Record<string, number>;
  flags: Record<string, number>;
  retries: number;
  config: { applied: number; rejected: number; unchanged: number };
}

export function newCounters(): ProxyCounters {
  return {
    requests: { outbound: 0, inbound: 0, gateway: 0 },
    responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, none: 0 },
    flags: {},
    retries: 0,
    config: { applied: 0, rejected: 0, unchanged: 0 },
  };
}

const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function statsLayer(c: ProxyCounters): Layer {
  const hook = (ex: Exchange, status: number): void => {
    c.requests[ex.direction]++;
    const cls = CLASSES[Math.floor(status / 100)] ?? 'none';
    c.responses[cls] = (c.responses[cls] ?? 0) + 1;
    for (const f of ex.flags) c.flags[f] = (c.flags[f] ?? 0) + 1;
  };
  return (next) => (ex) => {
    ex.onEnd.push(hook);
    return next(ex);
  };
}
