// Open-loop paced load for the chaos suite: request k is due at t0 + k/rate whatever happened
// to earlier ones (bench/src/paced.ts's schedule), latency counted from that due time. Unlike
// the benchmark it runs until stopped, reconnects after errors (node:http keep-alive agent),
// checks the body, and keeps every failure with its time so a scenario can count the failures
// of its own window.

import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadOptions {
  port: number;
  /** Host header. */
  host: string;
  path: string;
  rate: number;
  connections: number;
  /** A request not answered within this is a failure (default 10 s). */
  timeoutMs?: number;
  /** Extra judgement of a 200: a reason string marks it failed (productpage renders backend errors inside a 200). */
  judge?: (body: string) => string | undefined;
}

export interface Failure {
  at: number;
  reason: string;
}

export interface LoadWindow {
  sent: number;
  /** Due in the window and still unanswered when it was read. */
  pending: number;
  ok: number;
  failed: number;
  reasons: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
  seconds: number;
  achievedRps: number;
}

export class Load {
  private readonly agent: http.Agent;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private sent = 0;
  private inflight = 0;
  /** Due times of the requests not settled yet (unique: the schedule is strictly increasing). */
  private readonly pendingDue = new Set<number>();
  private readonly done: { at: number; ms: number }[] = [];
  readonly failures: Failure[] = [];
  private idle: (() => void) | undefined;

  constructor(readonly o: LoadOptions) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  }

  start(): void {
    this.t0 = performance.now();
    this.sent = 0;
    const interval = 1000 / this.o.rate;
    const tick = () => {
      const now = performance.now();
      while (this.t0 + this.sent * interval <= now) {
        this.fire(this.t0 + this.sent * interval);
        this.sent++;
      }
      this.timer = setTimeout(tick, Math.max(1, this.t0 + this.sent * interval - performance.now()));
    };
    tick();
  }

  /** Counters since `from` (performance.now() time; default: the start). */
  window(from = this.t0, to = performance.now()): LoadWindow {
    const lat = this.done.filter((d) => d.at >= from && d.at < to).map((d) => d.ms).sort((a, b) => a - b);
    const fails = this.failures.filter((f) => f.at >= from && f.at < to);
    const reasons: Record<string, number> = {};
    for (const f of fails) reasons[f.reason] = (reasons[f.reason] ?? 0) + 1;
    let pending = 0;
    for (const d of this.pendingDue) if (d >= from && d < to) pending++;
    const pct = (p: number) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! * 10) / 10 : NaN);
    const seconds = (to - from) / 1000;
    return {
      sent: lat.length + fails.length + pending, pending, ok: lat.length, failed: fails.length, reasons,
      p50: pct(0.5), p99: pct(0.99), max: lat.length ? Math.round(lat[lat.length - 1]! * 10) / 10 : NaN,
      seconds: Math.round(seconds * 10) / 10, achievedRps: Math.round((lat.length + fails.length) / Math.max(0.001, seconds)),
    };
  }

  now(): number {
    return performance.now();
  }

  /**
   * The load is healthy again after a disturbance: the requests due 4 to 2 s ago all succeeded.
   * Scenarios wait for this first, so one scenario's aftermath is not charged to the next.
   */
  healthy(): boolean {
    const now = performance.now();
    const w = this.window(now - 4000, now - 2000);
    return w.ok > 0 && w.failed === 0 && w.pending === 0;
  }

  /** Waits (bounded by the request timeout) until every request due before `to` has an outcome, then reads the window. */
  async settledWindow(from: number, to = performance.now()): Promise<LoadWindow> {
    const deadline = Date.now() + (this.o.timeoutMs ?? 10_000) + 2000;
    while (Date.now() < deadline && [...this.pendingDue].some((d) => d < to)) await new Promise((r) => setTimeout(r, 50));
    return this.window(from, to);
  }

  /** Stops sending and waits for the requests in flight to settle (each is bounded by the timeout). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inflight > 0) await new Promise<void>((resolve) => { this.idle = resolve; });
    this.agent.destroy();
  }

  private fire(due: number): void {
    // A mesh slower than the rate would grow the queue without bound and every later window
    // would only measure that queue: past 5 s of backlog a request counts failed unsent.
    if (this.inflight >= this.o.rate * 5) { this.failures.push({ at: due, reason: 'unsent (5 s backlog)' }); return; }
    this.inflight++;
    this.pendingDue.add(due);
    let settled = false;
    // The deadline runs from the due time, queueing in the agent included.
    const deadline = setTimeout(() => { settle('timeout'); req.destroy(); }, Math.max(1, due + (this.o.timeoutMs ?? 10_000) - performance.now()));
    const settle = (reason?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.pendingDue.delete(due);
      // Requests are counted in the window of their due time, which is what a fault overlaps.
      if (reason) this.failures.push({ at: due, reason });
      else this.done.push({ at: due, ms: performance.now() - due });
      if (--this.inflight === 0 && this.idle && !this.timer) this.idle();
    };
    const req = http.get({ port: this.o.port, host: '127.0.0.1', path: this.o.path, agent: this.agent, headers: { host: this.o.host, 'user-agent': 'chaos-load' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) { settle(`status ${res.statusCode}`); return; }
        settle(this.o.judge?.(Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', (err) => settle(`response ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    req.on('error', (err) => settle(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
  }
}

/** productpage answers 200 with an apology when a backend failed: that is a failed request too. */
export function judgeProductpage(body: string): string | undefined {
  if (!/The Comedy of Errors/.test(body)) return 'not a productpage';
  if (/currently unavailable|Error fetching/.test(body)) return 'backend unavailable';
  return undefined;
}

export function describe(w: LoadWindow): string {
  const reasons = Object.entries(w.reasons).map(([k, v]) => `${k} x${v}`).join(', ');
  return `${w.sent} requests in ${w.seconds} s (${w.achievedRps} rps), ${w.failed} failed${reasons ? ` (${reasons})` : ''}${w.pending ? `, ${w.pending} unanswered` : ''}, p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms`;
}

/** Closed-loop capacity: `concurrency` clients back to back for `seconds`; answers per second that passed the judge. */
export async function measureCapacity(o: Omit<LoadOptions, 'rate' | 'connections'>, seconds: number, concurrency: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const end = performance.now() + seconds * 1000;
  let ok = 0;
  const one = () => new Promise<void>((resolve) => {
    const req = http.get({ port: o.port, host: '127.0.0.1', path: o.path, agent, headers: { host: o.host }, timeout: o.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { if (res.statusCode === 200 && !o.judge?.(Buffer.concat(chunks).toString('utf8'))) ok++; resolve(); });
      res.on('error', () => resolve());
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve());
  });
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < end) await one(); }));
  agent.destroy();
  return ok / seconds;
}
