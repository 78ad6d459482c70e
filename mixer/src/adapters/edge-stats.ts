// The edge-stats adapter: live per-edge request rate, error rate and latency percentiles over
// a sliding window, plus the most recent requests grouped by x-request-id, as JSON for the
// console's service graph and `meshctl top` (Kiali reads the same numbers from Prometheus;
// here they come straight from the reports, so no Prometheus is needed).
import type { EdgeEnd, EdgeView, ReportRecord, RequestSpanView, RequestTraceView } from '#api';
import type { Adapter } from './adapter.js';

export interface EdgeStatsOptions {
  /** Sliding window the rates and percentiles cover. */
  windowSeconds?: number;
  /** Latency samples kept per one-second slot of an edge (reservoir). */
  samplesPerSlot?: number;
  /** Bound on distinct edges; past it the least recently seen edge is forgotten. */
  maxEdges?: number;
  /** Recent traces kept (grouped by x-request-id). */
  maxTraces?: number;
  now?: () => number;
}

export type { EdgeEnd, EdgeView } from '#api';

interface Slot {
  second: number;
  count: number;
  errors: number;
  clientErrors: number;
  mtls: number;
  seen: number;
  samples: number[];
}

interface Edge {
  source: EdgeEnd;
  destination: EdgeEnd & { service: string; serviceName: string };
  protocol: string;
  reporter: 'source' | 'destination';
  slots: Slot[];
  codes: Map<string, { second: number; n: number }[]>;
  total: number;
  totalErrors: number;
  firstSeen: number;
  lastSeen: number;
}

const str = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');

function end(p: unknown): EdgeEnd {
  const x = (p ?? {}) as Partial<EdgeEnd>;
  return { workload: str(x.workload), namespace: str(x.namespace), app: str(x.app), version: str(x.version) };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export class EdgeStatsAdapter implements Adapter {
  readonly name = 'edges';
  private readonly windowSeconds: number;
  private readonly samplesPerSlot: number;
  private readonly maxEdges: number;
  private readonly maxTraces: number;
  private readonly now: () => number;
  private readonly edges = new Map<string, Edge>();
  private readonly traces = new Map<string, { spans: RequestSpanView[]; lastMs: number }>();

  constructor(opts: EdgeStatsOptions = {}) {
    this.windowSeconds = opts.windowSeconds ?? 30;
    this.samplesPerSlot = opts.samplesPerSlot ?? 256;
    this.maxEdges = opts.maxEdges ?? 2000;
    this.maxTraces = opts.maxTraces ?? 100;
    this.now = opts.now ?? Date.now;
  }

  handleReport(records: readonly ReportRecord[]): void {
    const nowMs = this.now();
    for (const r of records) {
      if (r === null || typeof r !== 'object') continue;
      if (r.protocol !== 'tcp') this.trace(r);
      // Each hop is reported twice (client and server side). Count it once: from the caller's
      // proxy, which also sees failures that never reached the server (UH, UF); from the
      // server's proxy only when the caller is outside the mesh.
      const src = end(r.source);
      if (r.reporter === 'destination' && src.workload !== 'unknown') continue;
      if (r.reporter !== 'source' && r.reporter !== 'destination') continue;
      // A TCP connection is reported opened and closed: count it once, when it closes.
      if (r.protocol === 'tcp' && r.tcpEvent === 'opened') continue;
      this.count(r, src, nowMs);
    }
  }

  private count(r: ReportRecord, src: EdgeEnd, nowMs: number): void {
    const d = (r.destination ?? {}) as Partial<ReportRecord['destination']>;
    const dst = { ...end(d), service: str(d.service), serviceName: str(d.serviceName) };
    const protocol = str(r.protocol);
    const key = `${src.namespace}/${src.workload}\u0001${dst.namespace}/${dst.workload}\u0001${dst.service}\u0001${protocol}`;
    let e = this.edges.get(key);
    if (!e) {
      if (this.edges.size >= this.maxEdges) this.forgetOldest();
      e = { source: src, destination: dst, protocol, reporter: r.reporter, slots: [], codes: new Map(), total: 0, totalErrors: 0, firstSeen: nowMs, lastSeen: nowMs };
      this.edges.set(key, e);
    }
    const second = Math.floor(nowMs / 1000);
    let slot = e.slots[e.slots.length - 1];
    if (!slot || slot.second !== second) {
      slot = { second, count: 0, errors: 0, clientErrors: 0, mtls: 0, seen: 0, samples: [] };
      e.slots.push(slot);
      this.prune(e, second);
    }
    const code = typeof r.responseCode === 'number' ? r.responseCode : 0;
    const failed = code === 0 || code >= 500;
    slot.count++;
    if (failed) slot.errors++;
    else if (code >= 400) slot.clientErrors++;
    if (r.connectionSecurityPolicy === 'mutual_tls') slot.mtls++;
    if (typeof r.durationMs === 'number' && Number.isFinite(r.durationMs) && r.durationMs >= 0) {
      // Reservoir sampling keeps the percentiles honest when a slot sees more than it keeps.
      slot.seen++;
      if (slot.samples.length < this.samplesPerSlot) slot.samples.push(r.durationMs);
      else {
        const i = Math.floor(Math.random() * slot.seen);
        if (i < this.samplesPerSlot) slot.samples[i] = r.durationMs;
      }
    }
    const c = String(code);
    let byCode = e.codes.get(c);
    if (!byCode) e.codes.set(c, (byCode = []));
    const last = byCode[byCode.length - 1];
    if (last && last.second === second) last.n++;
    else byCode.push({ second, n: 1 });
    e.total++;
    if (failed) e.totalErrors++;
    e.lastSeen = nowMs;
    // Map order doubles as recency order for eviction.
    this.edges.delete(key);
    this.edges.set(key, e);
  }

  private prune(e: Edge, second: number): void {
    const oldest = second - this.windowSeconds + 1;
    while (e.slots.length && e.slots[0]!.second < oldest) e.slots.shift();
    for (const [c, list] of e.codes) {
      while (list.length && list[0]!.second < oldest) list.shift();
      if (list.length === 0) e.codes.delete(c);
    }
  }

  private forgetOldest(): void {
    const first = this.edges.keys().next();
    if (!first.done) this.edges.delete(first.value);
  }

  private trace(r: ReportRecord): void {
    if (typeof r.requestId !== 'string' || r.requestId === '') return;
    const duration = typeof r.durationMs === 'number' && Number.isFinite(r.durationMs) ? Math.max(0, r.durationMs) : 0;
    const endMs = typeof r.timestamp === 'number' && Number.isFinite(r.timestamp) ? r.timestamp : this.now();
    const d = (r.destination ?? {}) as Partial<ReportRecord['destination']>;
    const span: RequestSpanView = {
      reporter: r.reporter === 'destination' ? 'destination' : 'source',
      source: str(r.source?.workload),
      destination: str(d.workload),
      service: str(d.service),
      method: typeof r.method === 'string' ? r.method : undefined,
      path: typeof r.path === 'string' ? r.path : undefined,
      responseCode: typeof r.responseCode === 'number' ? r.responseCode : 0,
      responseFlags: typeof r.responseFlags === 'string' ? r.responseFlags : '-',
      startMs: endMs - duration,
      durationMs: duration,
      mtls: r.connectionSecurityPolicy === 'mutual_tls',
    };
    let t = this.traces.get(r.requestId);
    if (!t) {
      if (this.traces.size >= this.maxTraces) this.traces.delete(this.traces.keys().next().value!);
      t = { spans: [], lastMs: endMs };
      this.traces.set(r.requestId, t);
    }
    if (t.spans.length < 64) t.spans.push(span);
    t.lastMs = Math.max(t.lastMs, endMs);
  }

  /** Edges seen within the window, busiest first. */
  edgeViews(): { windowSeconds: number; generatedAt: string; edges: EdgeView[] } {
    const nowMs = this.now();
    const second = Math.floor(nowMs / 1000);
    const views: EdgeView[] = [];
    for (const e of this.edges.values()) {
      this.prune(e, second);
      if (e.slots.length === 0) continue;
      let count = 0, errors = 0, clientErrors = 0, mtls = 0;
      const samples: number[] = [];
      for (const s of e.slots) {
        count += s.count; errors += s.errors; clientErrors += s.clientErrors; mtls += s.mtls;
        samples.push(...s.samples);
      }
      samples.sort((a, b) => a - b);
      // An edge younger than the window is averaged over its life, so a fresh edge is not diluted.
      const spanSeconds = Math.min(this.windowSeconds, Math.max(1, (nowMs - e.firstSeen) / 1000));
      const codes: Record<string, number> = {};
      for (const [c, list] of e.codes) codes[c] = list.reduce((n, x) => n + x.n, 0);
      views.push({
        source: e.source, destination: e.destination, protocol: e.protocol, reporter: e.reporter,
        rps: round(count / spanSeconds, 3),
        errorRate: count ? round(errors / count, 4) : 0,
        clientErrorRate: count ? round(clientErrors / count, 4) : 0,
        p50Ms: roundOrNull(percentile(samples, 0.5)),
        p99Ms: roundOrNull(percentile(samples, 0.99)),
        windowRequests: count,
        totalRequests: e.total,
        totalErrors: e.totalErrors,
        mtls: count ? round(mtls / count, 4) : 0,
        codes,
        lastSeen: new Date(e.lastSeen).toISOString(),
      });
    }
    views.sort((a, b) => b.rps - a.rps || a.source.workload.localeCompare(b.source.workload) || a.destination.service.localeCompare(b.destination.service));
    return { windowSeconds: this.windowSeconds, generatedAt: new Date(nowMs).toISOString(), edges: views };
  }

  /** Newest first. */
  recentTraces(limit = this.maxTraces): RequestTraceView[] {
    const out: RequestTraceView[] = [];
    for (const [requestId, t] of [...this.traces].reverse()) {
      if (out.length >= limit) break;
      const spans = [...t.spans].sort((a, b) => a.startMs - b.startMs || b.durationMs - a.durationMs);
      const start = spans[0]?.startMs ?? t.lastMs;
      const endMs = Math.max(...spans.map((s) => s.startMs + s.durationMs));
      out.push({ requestId, startMs: start, durationMs: round(endMs - start, 3), spans });
    }
    return out;
  }

  describe(): Record<string, unknown> {
    return { windowSeconds: this.windowSeconds, edges: this.edges.size, traces: this.traces.size };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function roundOrNull(v: number | null): number | null {
  return v === null ? null : round(v, 3);
}
