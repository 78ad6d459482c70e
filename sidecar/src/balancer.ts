// Endpoint selection per attempt (so a retry can land elsewhere). Built once per config push
// over the cluster's endpoints; state that must outlive pushes (requests in flight, outlier
// ejections) lives in the endpoint's stats, which the runtime carries across pushes.
// Policies: ROUND_ROBIN, RANDOM, LEAST_REQUEST (power of two choices), and a ring hash for
// consistentHash (Envoy's RING_HASH with minimumRingSize). Below the cluster's
// minHealthPercent the balancer panics like Envoy: it picks among every endpoint.

import type { ConsistentHashConfig, Endpoint, LbPolicy, PeerInfo } from '#api';

export interface EndpointStats {
  /** Requests in flight (LEAST_REQUEST reads this). */
  active: number;
  requests: number;
  /** 5xx answers and connection failures. */
  failures: number;
  connectFailures: number;
  /** Consecutive 5xx (local failures included), for outlier detection. */
  consecutiveFailures: number;
  /** Consecutive gateway errors (502/503/504, connect failures, resets, timeouts). */
  consecutiveGatewayFailures: number;
  /** Outlier ejection: not picked before this time (ms since epoch); 0 = not ejected. */
  ejectedUntil: number;
  /** Ejections so far (the ejection time multiplier; decays while the endpoint behaves). */
  ejections: number;
  /** Failures seen since the outlier detector's last interval sweep. */
  failuresThisInterval: number;
}

export interface EndpointRef {
  /** `cluster|address:port`: the identity of this endpoint's counters across pushes. */
  key: string;
  endpoint: Endpoint;
  stats: EndpointStats;
  /** The destination as telemetry names it. */
  destination: PeerInfo;
}

export interface Balancer {
  readonly policy: LbPolicy;
  /** `hash`: the request's consistent-hash key (absent: no key, pick at random). */
  pick(hash?: number): EndpointRef | undefined;
}

export interface BalancerOptions {
  random?: () => number;
  consistentHash?: ConsistentHashConfig;
  /** Envoy's healthy panic threshold (Istio's outlierDetection.minHealthPercent). */
  minHealthPercent?: number;
  /** The cluster has no outlier detection (any more): ejections do not count. */
  ignoreEjections?: boolean;
  now?: () => number;
}

export function newEndpointStats(): EndpointStats {
  return {
    active: 0, requests: 0, failures: 0, connectFailures: 0,
    consecutiveFailures: 0, consecutiveGatewayFailures: 0, ejectedUntil: 0, ejections: 0, failuresThisInterval: 0,
  };
}

export function isAvailable(e: EndpointRef, now: number): boolean {
  return e.endpoint.healthy && e.stats.ejectedUntil <= now;
}

/** FNV-1a with murmur3's finaliser: cheap, and spreads similar strings over 32 bits. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Envoy's ring hash default minimum size. */
export const DEFAULT_RING_SIZE = 1024;
const MAX_RING_SIZE = 8 * 1024 * 1024;

interface Ring { points: Uint32Array; owners: Uint32Array }

export function buildRing(endpoints: readonly EndpointRef[], minimumRingSize = DEFAULT_RING_SIZE): Ring {
  const n = endpoints.length;
  const perHost = Math.max(1, Math.ceil(Math.min(Math.max(minimumRingSize, n), MAX_RING_SIZE) / n));
  const entries: [number, number][] = [];
  endpoints.forEach((e, i) => {
    const base = `${e.endpoint.address}:${e.endpoint.port}_`;
    for (let r = 0; r < perHost; r++) entries.push([hash32(base + r), i]);
  });
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { points: Uint32Array.from(entries, (x) => x[0]), owners: Uint32Array.from(entries, (x) => x[1]) };
}

/** `random` in [0, 1), injectable for tests. */
export function createBalancer(policy: LbPolicy, endpoints: readonly EndpointRef[], opts: BalancerOptions | (() => number) = {}): Balancer {
  const o: BalancerOptions = typeof opts === 'function' ? { random: opts } : opts;
  const random = o.random ?? Math.random;
  const clock = o.now ?? Date.now;
  const panicBelow = o.minHealthPercent ?? 0;
  const n = endpoints.length;
  if (n === 0) return { policy, pick: () => undefined };

  // Panic: too few endpoints are available, so availability is ignored (Envoy's panic mode).
  const usable = (now: number): ((e: EndpointRef) => boolean) => {
    if (o.ignoreEjections) return (e) => e.endpoint.healthy;
    if (panicBelow <= 0) return (e) => isAvailable(e, now);
    let up = 0;
    for (const e of endpoints) if (isAvailable(e, now)) up++;
    return up * 100 < panicBelow * n ? () => true : (e) => isAvailable(e, now);
  };

  const randomPick = (ok: (e: EndpointRef) => boolean): EndpointRef | undefined => {
    const start = Math.floor(random() * n);
    for (let i = 0; i < n; i++) {
      const e = endpoints[(start + i) % n]!;
      if (ok(e)) return e;
    }
    return undefined;
  };

  if (o.consistentHash) {
    const ring = buildRing(endpoints, o.consistentHash.minimumRingSize);
    const size = ring.points.length;
    return {
      policy,
      pick(hash) {
        const ok = usable(clock());
        if (hash === undefined) return randomPick(ok);
        // First point at or after the hash, wrapping; walk on past unavailable endpoints.
        let lo = 0;
        let hi = size;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (ring.points[mid]! < hash) lo = mid + 1; else hi = mid;
        }
        for (let i = 0; i < size; i++) {
          const e = endpoints[ring.owners[(lo + i) % size]!]!;
          if (ok(e)) return e;
        }
        return undefined;
      },
    };
  }

  switch (policy) {
    case 'RANDOM':
      return { policy, pick: () => randomPick(usable(clock())) };
    case 'LEAST_REQUEST':
      // Envoy's default: power of two random choices, fewer active requests wins.
      return {
        policy,
        pick() {
          const ok = usable(clock());
          if (n === 1) return ok(endpoints[0]!) ? endpoints[0] : undefined;
          const ia = Math.floor(random() * n);
          let ib = Math.floor(random() * n);
          if (ib === ia) ib = (ia + 1) % n;
          const a = endpoints[ia]!;
          const b = endpoints[ib]!;
          const okA = ok(a);
          const okB = ok(b);
          if (okA && okB) return a.stats.active <= b.stats.active ? a : b;
          if (okA) return a;
          if (okB) return b;
          return randomPick(ok);
        },
      };
    default: {
      // ROUND_ROBIN (and PASSTHROUGH, which has no endpoints of its own).
      let next = 0;
      return {
        policy,
        pick() {
          const ok = usable(clock());
          for (let i = 0; i < n; i++) {
            const e = endpoints[next]!;
            next = next + 1 === n ? 0 : next + 1;
            if (ok(e)) return e;
          }
          return undefined;
        },
      };
    }
  }
}
