// Load balancers: pick one endpoint of a cluster per attempt. Built once per config push over
// the healthy endpoints; state that must outlive pushes (active requests) lives in the
// endpoint's stats, which the runtime carries across pushes.

import type { Endpoint, LbPolicy, PeerInfo } from '#api';

export interface EndpointStats {
  /** Requests in flight (LEAST_REQUEST reads this). */
  active: number;
  requests: number;
  /** 5xx answers and connection failures. */
  failures: number;
  connectFailures: number;
  /** Consecutive 5xx/gateway errors, for outlier detection. */
  consecutiveFailures: number;
}

export interface EndpointRef {
  /** `cluster|address:port`: the identity of this endpoint's counters across pushes. */
  key: string;
  endpoint: Endpoint;
  stats: EndpointStats;
  /** The destination as telemetry names it. */
  destination: PeerInfo;
  /** Extra health gate later layers (outlier detection) may close. */
  ejectedUntil: number;
}

export interface Balancer {
  readonly policy: LbPolicy;
  pick(): EndpointRef | undefined;
}

export function newEndpointStats(): EndpointStats {
  return { active: 0, requests: 0, failures: 0, connectFailures: 0, consecutiveFailures: 0 };
}

function available(e: EndpointRef, now: number): boolean {
  return e.endpoint.healthy && e.ejectedUntil <= now;
}

/** `random` in [0, 1), injectable for tests. */
export function createBalancer(policy: LbPolicy, endpoints: readonly EndpointRef[], random: () => number = Math.random): Balancer {
  const n = endpoints.length;
  if (n === 0) return { policy, pick: () => undefined };
  switch (policy) {
    case 'RANDOM':
      return {
        policy,
        pick() {
          const now = Date.now();
          const start = Math.floor(random() * n);
          for (let i = 0; i < n; i++) {
            const e = endpoints[(start + i) % n]!;
            if (available(e, now)) return e;
          }
          return undefined;
        },
      };
    case 'LEAST_REQUEST':
      // Envoy's default: power of two random choices, fewer active requests wins.
      return {
        policy,
        pick() {
          const now = Date.now();
          if (n === 1) return available(endpoints[0]!, now) ? endpoints[0] : undefined;
          const a = endpoints[Math.floor(random() * n)]!;
          let b = endpoints[Math.floor(random() * n)]!;
          if (b === a) b = endpoints[(endpoints.indexOf(a) + 1) % n]!;
          const okA = available(a, now);
          const okB = available(b, now);
          if (okA && okB) return a.stats.active <= b.stats.active ? a : b;
          if (okA) return a;
          if (okB) return b;
          for (const e of endpoints) if (available(e, now)) return e;
          return undefined;
        },
      };
    default: {
      // ROUND_ROBIN (and PASSTHROUGH, which has no endpoints of its own yet).
      let next = 0;
      return {
        policy,
        pick() {
          const now = Date.now();
          for (let i = 0; i < n; i++) {
            const e = endpoints[next]!;
            next = next + 1 === n ? 0 : next + 1;
            if (available(e, now)) return e;
          }
          return undefined;
        },
      };
    }
  }
}
