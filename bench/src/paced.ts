// Open-loop (paced) load generator, the job wrk2 does (wrk2 is not packaged in Debian):
// request k is due at t0 + k/rate and goes to connection k mod C; its latency is measured
// from that scheduled time, not from when it was actually written, so a stalled proxy is
// charged for every request it delayed (no coordinated omission). Keep-alive HTTP/1.1 on raw
// sockets with a minimal response parser keeps the generator's own cost low.
// `node paced.js '{"port":..,"host":"bench:9080","rate":1000,"connections":16,"seconds":10}'`
// prints a PacedResult as JSON.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface PacedOptions {
  port: number;
  host: string;
  path?: string;
  rate: number;
  connections: number;
  seconds: number;
  /** Requests before measuring starts (connections and JIT warm). */
  warmupSeconds?: number;
}

export interface PacedResult {
  rate: number;
  connections: number;
  sent: number;
  completed: number;
  errors: number;
  achievedRps: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

class Conn {
  private sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private queue: number[] = [];
  private inflight: number | undefined;
  private need = -1;
  constructor(private readonly o: PacedOptions, private readonly request: Buffer, private readonly done: (scheduled: number, ok: boolean) => void) {
    this.sock = net.connect(o.port, '127.0.0.1');
    this.sock.setNoDelay(true);
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', () => this.fail());
    this.sock.on('close', () => this.fail());
  }

  enqueue(scheduled: number): void {
    this.queue.push(scheduled);
    if (this.inflight === undefined) this.next();
  }

  private next(): void {
    const s = this.queue.shift();
    if (s === undefined) return;
    this.inflight = s;
    this.sock.write(this.request);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.need < 0) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buf.subarray(0, end).toString('latin1');
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!cl) { this.fail(); return; }
        this.need = end + 4 + Number(cl[1]);
        const ok = head.startsWith('HTTP/1.1 2');
        if (!ok) this.bad = true;
      }
      if (this.buf.length < this.need) return;
      this.buf = this.buf.subarray(this.need);
      this.need = -1;
      const s = this.inflight!;
      const ok = !this.bad;
      this.bad = false;
      this.inflight = undefined;
      this.done(s, ok);
      this.next();
    }
  }
  private bad = false;

  private fail(): void {
    if (this.inflight !== undefined) { this.done(this.inflight, false); this.inflight = undefined; }
    for (const s of this.queue.splice(0)) this.done(s, false);
  }

  close(): void {
    this.sock.destroy();
  }
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export async function runPaced(o: PacedOptions): Promise<PacedResult> {
  const request = Buffer.from(`GET ${o.path ?? '/'} HTTP/1.1\r\nHost: ${o.host}\r\nUser-Agent: bench-paced\r\n\r\n`);
  const warm = o.warmupSeconds ?? 1;
  const total = Math.round(o.rate * (o.seconds + warm));
  const warmCount = Math.round(o.rate * warm);
  const lat = new Float64Array(total);
  let measured = 0;
  let completed = 0;
  let errors = 0;
  let finished = 0;
  let t0 = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => { resolveAll = r; });
  const conns: Conn[] = [];
  const onDone = (scheduled: number, ok: boolean) => {
    finished++;
    const k = Math.round((scheduled - t0) * o.rate / 1000);
    if (k >= warmCount) {
      if (ok) { lat[measured++] = performance.now() - scheduled; completed++; } else errors++;
    }
    if (finished === total) resolveAll();
  };
  for (let i = 0; i < o.connections; i++) conns.push(new Conn(o, request, onDone));
  await new Promise((r) => setTimeout(r, 50));
  t0 = performance.now();
  let sent = 0;
  const interval = 1000 / o.rate;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        conns[sent % o.connections]!.enqueue(t0 + sent * interval);
        sent++;
      }
      if (sent >= total) { resolve(); return; }
      setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    tick();
  });
  const deadline = setTimeout(resolveAll, 30_000);
  await all;
  clearTimeout(deadline);
  const elapsed = (performance.now() - t0) / 1000;
  for (const c of conns) c.close();
  const sorted = lat.slice(0, measured).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    rate: o.rate, connections: o.connections, sent, completed, errors: errors + (total - finished),
    achievedRps: Math.round(finished / elapsed),
    latencyMs: {
      p50: r3(pct(sorted, 0.5)), p90: r3(pct(sorted, 0.9)), p99: r3(pct(sorted, 0.99)), p999: r3(pct(sorted, 0.999)),
      max: r3(sorted.length ? sorted[sorted.length - 1]! : NaN), mean: r3(sum / Math.max(1, sorted.length)),
    },
  };
}

if (process.argv[1]?.endsWith('paced.js') && process.argv[2]) {
  runPaced(JSON.parse(process.argv[2]) as PacedOptions).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }, (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
