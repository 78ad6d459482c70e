// Circuit breaking (DestinationRule connectionPool), Envoy's cluster circuit breakers for
// HTTP/1.1: a connection carries one request at a time, so requests in flight are bounded by
// tcp.maxConnections (and http2MaxRequests); requests beyond that wait as pending, up to
// http1MaxPendingRequests; anything more overflows and is answered 503 with flag UO.
// Concurrent retries are bounded by http.maxRetries. One pool per cluster name, kept across
// pushes (limits follow the latest config; counts carry on).

import type { ConnectionPoolConfig } from '#api';

export interface PoolLimits {
  maxActive: number;
  maxPending: number;
  maxRetries: number;
}

/** Istio leaves a limit unset when the field is absent or 0. */
function limit(n: number | undefined): number {
  return n !== undefined && n > 0 ? n : Infinity;
}

export function poolLimits(cp: ConnectionPoolConfig | undefined): PoolLimits {
  return {
    maxActive: Math.min(limit(cp?.maxConnections), limit(cp?.maxRequests)),
    maxPending: limit(cp?.maxPendingRequests),
    maxRetries: limit(cp?.maxRetries),
  };
}

export interface PoolStats {
  active: number;
  pending: number;
  retries: number;
  overflows: number;
  retryOverflows: number;
}

type Waiter = { grant: (granted: boolean) => void };

export class ClusterPool {
  limits: PoolLimits;
  private active = 0;
  private retries = 0;
  private readonly waiting: Waiter[] = [];
  overflows = 0;
  retryOverflows = 0;

  constructor(cp: ConnectionPoolConfig | undefined) {
    this.limits = poolLimits(cp);
  }

  update(cp: ConnectionPoolConfig | undefined): void {
    this.limits = poolLimits(cp);
    this.wake();
  }

  /**
   * A slot for one upstream request: granted now, queued (the promise resolves true when
   * granted, false when cancelled: `cancel` leaves the queue), or refused on overflow.
   */
  acquire(): { granted: true } | { granted: false } | { queued: Promise<boolean>; cancel: () => void } {
    if (this.active < this.limits.maxActive) {
      this.active++;
      return { granted: true };
    }
    if (this.waiting.length >= this.limits.maxPending) {
      this.overflows++;
      return { granted: false };
    }
    let waiter!: Waiter;
    const queued = new Promise<boolean>((resolve) => { waiter = { grant: resolve }; });
    this.waiting.push(waiter);
    return {
      queued,
      cancel: () => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        waiter.grant(false);
      },
    };
  }

  release(): void {
    this.active--;
    this.wake();
  }

  private wake(): void {
    while (this.active < this.limits.maxActive && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!.grant(true);
    }
  }

  /** A retry may start only under maxRetries concurrent retries. */
  tryRetry(): boolean {
    if (this.retries >= this.limits.maxRetries) {
      this.retryOverflows++;
      return false;
    }
    this.retries++;
    return true;
  }

  retryDone(): void {
    this.retries--;
  }

  stats(): PoolStats {
    return { active: this.active, pending: this.waiting.length, retries: this.retries, overflows: this.overflows, retryOverflows: this.retryOverflows };
  }
}
