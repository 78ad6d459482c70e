// Asks mixer for policy decisions over the bus, answering from the check cache first.
// When mixer cannot be reached (no responder, timeout, bus away) the configured fail policy
// decides: open lets the request through, closed answers 503; for a short back-off after a
// failure it decides at once instead of waiting on every request. Quota denials are 429s
// only when mixer says so: a quota backend that is down never reaches the proxy as a denial.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { subjects, type Bus, type CheckCacheCounts, type CheckRequest, type CheckResponse, type PolicyChanged } from '#api';
import type { Logger } from 'pino';
import { CheckCache } from './check-cache.js';

/** nats.js's error code for a request nobody is subscribed to. */
const NO_RESPONDERS = '503';
const NO_RESPONDER_RETRY_MS = 50;

export interface PolicyClientOptions {
  bus: Bus;
  failOpen: boolean;
  timeoutMs: number;
  cacheSize: number;
  /** After mixer failed to answer, decide by the fail policy for this long before trying again. */
  retryAfterMs: number;
  log: Logger;
  now?: () => number;
}

export type PolicyDecision =
  | { allowed: true; via: 'cache' | 'mixer' | 'fail-open' }
  | { allowed: false; via: 'cache' | 'mixer' | 'fail-closed'; status: number; message: string };

function decide(res: CheckResponse, via: 'cache' | 'mixer'): PolicyDecision {
  if (res.allowed) return { allowed: true, via };
  return { allowed: false, via, status: res.httpStatus ?? 403, message: res.message ?? res.code ?? 'PERMISSION_DENIED' };
}

export class PolicyClient {
  readonly cache: CheckCache;
  private counts: CheckCacheCounts = { hits: 0, misses: 0, failOpen: 0, failClosed: 0 };
  readonly totals: CheckCacheCounts & { errors: number; noResponderRetries: number } = { hits: 0, misses: 0, failOpen: 0, failClosed: 0, errors: 0, noResponderRetries: 0 };
  private downUntil = 0;
  private configVersion: string | undefined;
  private readonly now: () => number;
  private sub: { unsubscribe(): void } | undefined;

  constructor(private readonly opts: PolicyClientOptions) {
    this.now = opts.now ?? Date.now;
    this.cache = new CheckCache({ maxEntries: opts.cacheSize, now: this.now });
  }

  /** Listens for policy changes: a new mixer config voids every cached answer. */
  start(): void {
    this.sub ??= this.opts.bus.subscribe<PolicyChanged>(subjects.policyChanged, (m) => {
      if (typeof m.data?.configVersion !== 'string' || m.data.configVersion === this.configVersion) return;
      this.configVersion = m.data.configVersion;
      this.cache.clear();
    });
    // Answers cached before a bus outage may predate a config change we missed.
    this.opts.bus.onReconnect(() => this.cache.clear());
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  /** The hot path: a cached decision, synchronously, or undefined. */
  cached(req: CheckRequest): PolicyDecision | undefined {
    const res = this.cache.lookup(req);
    if (!res) return undefined;
    this.counts.hits++;
    this.totals.hits++;
    return decide(res, 'cache');
  }

  async ask(req: CheckRequest): Promise<PolicyDecision> {
    this.counts.misses++;
    this.totals.misses++;
    if (this.now() < this.downUntil) return this.failPolicy();
    const generation = this.cache.generation;
    let res: CheckResponse;
    try {
      res = await this.request(req);
    } catch (err) {
      this.totals.errors++;
      this.downUntil = this.now() + this.opts.retryAfterMs;
      this.opts.log.warn({ code: 'SIDECAR_MIXER_UNREACHABLE', err: (err as Error).message, failOpen: this.opts.failOpen }, 'mixer did not answer a policy check');
      return this.failPolicy();
    }
    if (!res || typeof res.allowed !== 'boolean') {
      this.totals.errors++;
      return this.failPolicy();
    }
    // A policy change arrived while asking: this answer may predate it, use it once only.
    const stale = generation !== this.cache.generation;
    if (res.configVersion && res.configVersion !== this.configVersion) {
      // Mixer moved to a config we have not heard of yet: older answers are void.
      if (this.configVersion !== undefined) this.cache.clear();
      this.configVersion = res.configVersion;
    }
    if (!stale) this.cache.store(req, res);
    return decide(res, 'mixer');
  }

  /**
   * One check within the check timeout. "No responders" means the bus is up but mixer is not
   * subscribed yet, which is what the moments after a bus or mixer restart look like: ask
   * again every NO_RESPONDER_RETRY_MS until the timeout instead of failing every request of
   * that window. Any other failure (timeout, bus closed) ends the check at once.
   */
  private async request(req: CheckRequest): Promise<CheckResponse> {
    const deadline = performance.now() + this.opts.timeoutMs;
    for (;;) {
      const left = Math.round(deadline - performance.now());
      try {
        return await this.opts.bus.request<CheckResponse>(subjects.policyCheck, req, Math.max(1, left));
      } catch (err) {
        if ((err as { code?: string }).code !== NO_RESPONDERS || deadline - performance.now() <= NO_RESPONDER_RETRY_MS) throw err;
        this.totals.noResponderRetries++;
        await delay(NO_RESPONDER_RETRY_MS);
      }
    }
  }

  private failPolicy(): PolicyDecision {
    if (this.opts.failOpen) {
      this.counts.failOpen++;
      this.totals.failOpen++;
      return { allowed: true, via: 'fail-open' };
    }
    this.counts.failClosed++;
    this.totals.failClosed++;
    return { allowed: false, via: 'fail-closed', status: 503, message: 'UNAVAILABLE:mixer:policy check failed (mixer unreachable)' };
  }

  /** Counts since the last call, for the next report batch. */
  takeCounts(): CheckCacheCounts | undefined {
    const c = this.counts;
    if (c.hits + c.misses + c.failOpen + c.failClosed === 0) return undefined;
    this.counts = { hits: 0, misses: 0, failOpen: 0, failClosed: 0 };
    return c;
  }

  describe(): Record<string, unknown> {
    return { failOpen: this.opts.failOpen, configVersion: this.configVersion, mixerBackoff: this.now() < this.downUntil, totals: { ...this.totals }, cache: this.cache.describe() };
  }
}
