// Passive health (DestinationRule outlierDetection), Envoy's consecutive-errors detector:
// - consecutive 5xx (local failures such as connect failure, reset and timeout count as 5xx)
//   and consecutive gateway errors (502, 503, 504 and those local failures) eject at once
//   when their threshold is reached;
// - an ejection lasts baseEjectionTime x the number of times the endpoint was ejected
//   (capped at 300 s, or the base time if larger), then the endpoint comes back by itself;
// - at most maxEjectionPercent of the cluster is ejected at a time (a cluster with fewer
//   than 100/maxEjectionPercent endpoints can still eject one: Envoy compares before ejecting);
// - every interval, endpoints that stayed clean since the last sweep lose one ejection from
//   their multiplier, so a recovered endpoint is forgiven over time.
// No timers: the sweep runs lazily when an outcome is reported. State lives in the endpoint
// stats, so it survives config pushes.

import type { OutlierConfig } from '#api';
import type { EndpointRef } from './balancer.js';
import type { Failure } from './exchange.js';

export const MAX_EJECTION_TIME_MS = 300_000;

export interface Outcome {
  status: number;
  failure?: Failure;
}

export type OutlierEvent = { type: 'ejected'; endpoint: EndpointRef; untilMs: number; reason: '5xx' | 'gateway' } | { type: 'capped'; endpoint: EndpointRef };

function isGatewayError(o: Outcome): boolean {
  if (o.failure === 'connect-failure' || o.failure === 'reset' || o.failure === 'timeout') return true;
  return o.status === 502 || o.status === 503 || o.status === 504;
}

/** Outcomes that say nothing about the endpoint (the proxy never reached it, or the client left). */
function isNeutral(o: Outcome): boolean {
  return o.failure === 'overflow' || o.failure === 'no-healthy-upstream' || o.failure === 'downstream-gone';
}

export class OutlierDetector {
  private lastSweep: number;
  readonly events: OutlierEvent[] = [];

  constructor(
    readonly config: OutlierConfig,
    private readonly endpoints: readonly EndpointRef[],
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  private ejectedCount(now: number): number {
    let c = 0;
    for (const e of this.endpoints) if (e.stats.ejectedUntil > now) c++;
    return c;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.config.intervalMs) return;
    this.lastSweep = now;
    for (const e of this.endpoints) {
      const s = e.stats;
      if (s.ejectedUntil <= now && s.ejections > 0 && s.failuresThisInterval === 0) s.ejections--;
      s.failuresThisInterval = 0;
    }
  }

  private eject(e: EndpointRef, now: number, reason: '5xx' | 'gateway'): void {
    const s = e.stats;
    if (s.ejectedUntil > now) return;
    const max = this.config.maxEjectionPercent;
    if (this.ejectedCount(now) * 100 >= max * this.endpoints.length) {
      this.note({ type: 'capped', endpoint: e });
      return;
    }
    s.ejections++;
    const cap = Math.max(MAX_EJECTION_TIME_MS, this.config.baseEjectionTimeMs);
    s.ejectedUntil = now + Math.min(cap, this.config.baseEjectionTimeMs * s.ejections);
    s.consecutiveFailures = 0;
    s.consecutiveGatewayFailures = 0;
    this.note({ type: 'ejected', endpoint: e, untilMs: s.ejectedUntil, reason });
  }

  private note(ev: OutlierEvent): void {
    // Kept short: the admin API shows the latest events.
    if (this.events.length >= 32) this.events.shift();
    this.events.push(ev);
  }

  /** Records one attempt's outcome against the endpoint that answered it. */
  report(e: EndpointRef, o: Outcome): void {
    if (isNeutral(o)) return;
    const now = this.now();
    this.sweep(now);
    const s = e.stats;
    const is5xx = o.status >= 500 || o.failure !== undefined;
    const gateway = isGatewayError(o);
    if (is5xx) s.failuresThisInterval++;
    s.consecutiveFailures = is5xx ? s.consecutiveFailures + 1 : 0;
    s.consecutiveGatewayFailures = gateway ? s.consecutiveGatewayFailures + 1 : 0;
    const c5 = this.config.consecutive5xx;
    const cg = this.config.consecutiveGatewayErrors;
    if (c5 !== undefined && c5 > 0 && s.consecutiveFailures >= c5) this.eject(e, now, '5xx');
    else if (cg !== undefined && cg > 0 && s.consecutiveGatewayFailures >= cg) this.eject(e, now, 'gateway');
  }
}
