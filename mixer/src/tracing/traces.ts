// Trace spans assembled into traces from the reports, with no tracer in the apps: every
// record is a span (the client side's record a CLIENT span, the server side's a SERVER span),
// grouped by trace id (B3/traceparent when the request carried one, else x-request-id, which
// the Bookinfo apps forward). Parents come from the trace context when present, else from
// the call structure: a SERVER span's parent is the CLIENT span of the same hop; a CLIENT
// span's parent is the SERVER span of the workload that made the call, enclosing it in time.
// Served as Zipkin v2 JSON on /debug/traces and handed to the exporter once a trace is quiet.
import { createHash } from 'node:crypto';
import type { PeerInfo, ReportRecord } from '#api';
import type { Adapter } from '../adapters/adapter.js';

export interface ZipkinEndpoint { serviceName: string }

/** Zipkin v2 span (https://zipkin.io/zipkin-api/#/default/post_spans). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind: 'CLIENT' | 'SERVER';
  name: string;
  /** Epoch microseconds. */
  timestamp: number;
  /** Microseconds. */
  duration: number;
  localEndpoint: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  tags: Record<string, string>;
}

interface SpanEntry {
  span: ZipkinSpan;
  srcWorkload: string;
  dstWorkload: string;
  /** The id the record's trace context named as parent, if any. */
  contextParent?: string;
}

interface TraceEntry {
  requestId: string;
  spans: SpanEntry[];
  lastAt: number;
  exported: number;
}

export interface TraceView {
  traceId: string;
  requestId: string;
  /** `istio-ingressgateway -> productpage-v1 -> reviews-v2 -> ratings-v1` */
  path: string;
  startedAt: string;
  durationMs: number;
  spans: ZipkinSpan[];
}

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);
const peerName = (p: Partial<PeerInfo> | undefined) => (p?.app && p.app !== 'unknown' ? `${p.app}.${p.namespace ?? 'default'}` : p?.workload && p.workload !== 'unknown' ? `${p.workload}.${p.namespace ?? 'default'}` : 'unknown');
/** Clocks of two proxies on one host agree; allow a little for rounding. */
const SLACK_US = 2000;

export interface TraceAssemblerOptions {
  maxTraces?: number;
  maxSpansPerTrace?: number;
  /** A trace with no new span for this long is complete and goes to the exporter. */
  completeAfterMs?: number;
  now?: () => number;
  export?: (spans: ZipkinSpan[]) => void;
}

export class TraceAssembler implements Adapter {
  readonly name = 'traces';
  private readonly traces = new Map<string, TraceEntry>();
  private readonly maxTraces: number;
  private readonly maxSpans: number;
  private readonly completeAfterMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private spansSeen = 0;

  constructor(private readonly opts: TraceAssemblerOptions = {}) {
    this.maxTraces = opts.maxTraces ?? 500;
    this.maxSpans = opts.maxSpansPerTrace ?? 200;
    this.completeAfterMs = opts.completeAfterMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** Starts the sweep that hands quiet traces to the exporter. */
  start(intervalMs = 250): void {
    if (this.timer || !this.opts.export) return;
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sweep(true);
  }

  handleReport(records: readonly ReportRecord[]): void {
    for (const r of records) {
      // Spans are requests; TCP connections are metrics and access logs only (as in Istio 1.1).
      if (r === null || typeof r !== 'object' || r.protocol === 'tcp') continue;
      const requestId = typeof r.requestId === 'string' ? r.requestId : '';
      const traceKey = typeof r.traceId === 'string' && /^[0-9a-f]{16,32}$/i.test(r.traceId) ? r.traceId.toLowerCase() : requestId ? hex(requestId, 32) : '';
      if (!traceKey) continue;
      let t = this.traces.get(traceKey);
      if (!t) {
        if (this.traces.size >= this.maxTraces) this.traces.delete(this.traces.keys().next().value!);
        t = { requestId, spans: [], lastAt: 0, exported: 0 };
        this.traces.set(traceKey, t);
      }
      if (t.spans.length >= this.maxSpans) continue;
      t.spans.push(this.toSpan(r, traceKey));
      t.lastAt = this.now();
      this.spansSeen++;
    }
  }

  private toSpan(r: ReportRecord, traceId: string): SpanEntry {
    const d = (r.destination ?? {}) as Partial<ReportRecord['destination']>;
    const client = r.reporter === 'source';
    const durUs = Math.max(0, Math.round((typeof r.durationMs === 'number' ? r.durationMs : 0) * 1000));
    const endUs = Math.round((typeof r.timestamp === 'number' ? r.timestamp : this.now()) * 1000);
    const src = peerName(r.source), dst = peerName(d);
    const span: ZipkinSpan = {
      traceId,
      id: hex(`${traceId}|${r.reporter}|${r.source?.workload}|${d.workload}|${endUs}|${durUs}|${r.path}`, 16),
      kind: client ? 'CLIENT' : 'SERVER',
      name: `${d.service ?? 'unknown'}:${r.path ?? '/'}`,
      timestamp: endUs - durUs,
      duration: durUs,
      localEndpoint: { serviceName: client ? src : dst },
      remoteEndpoint: { serviceName: client ? dst : src },
      tags: {
        component: 'proxy',
        'http.method': String(r.method ?? ''),
        'http.url': String(r.path ?? ''),
        'http.status_code': String(r.responseCode ?? 0),
        response_flags: String(r.responseFlags ?? '-'),
        'istio.mesh_id': 'cluster.local',
        node_id: String(client ? r.source?.workload : d.workload),
        ...(r.requestId ? { guid: r.requestId, 'guid:x-request-id': r.requestId } : {}),
        ...(r.responseCode === 0 || (typeof r.responseCode === 'number' && r.responseCode >= 500) ? { error: 'true' } : {}),
      },
    };
    const entry: SpanEntry = { span, srcWorkload: String(r.source?.workload ?? 'unknown'), dstWorkload: String(d.workload ?? 'unknown') };
    if (typeof r.parentSpanId === 'string' && r.parentSpanId) entry.contextParent = r.parentSpanId;
    return entry;
  }

  /** Parents from the trace context when they name a span here, else from the call structure. */
  private assemble(t: TraceEntry): ZipkinSpan[] {
    const ids = new Set(t.spans.map((s) => s.span.id));
    const end = (s: ZipkinSpan) => s.timestamp + s.duration;
    return t.spans.map((e) => {
      const s = { ...e.span };
      if (e.contextParent && ids.has(e.contextParent)) { s.parentId = e.contextParent; return s; }
      let best: ZipkinSpan | undefined;
      for (const o of t.spans) {
        const c = o.span;
        if (c === e.span) continue;
        const encloses = c.timestamp <= s.timestamp + SLACK_US && end(c) + SLACK_US >= end(s);
        const sameHop = s.kind === 'SERVER' && c.kind === 'CLIENT' && o.srcWorkload === e.srcWorkload && o.dstWorkload === e.dstWorkload;
        const caller = s.kind === 'CLIENT' && c.kind === 'SERVER' && o.dstWorkload === e.srcWorkload;
        if (!encloses || !(sameHop || caller)) continue;
        if (!best || c.duration < best.duration) best = c;
      }
      if (best) s.parentId = best.id;
      return s;
    }).sort((a, b) => a.timestamp - b.timestamp || b.duration - a.duration);
  }

  private view(traceId: string, t: TraceEntry): TraceView {
    const spans = this.assemble(t);
    const start = Math.min(...spans.map((s) => s.timestamp));
    const end = Math.max(...spans.map((s) => s.timestamp + s.duration));
    // The call path: each CLIENT span's caller and callee, in start order, deduplicated.
    const path: string[] = [];
    for (const s of spans) {
      for (const n of s.kind === 'CLIENT' ? [s.localEndpoint.serviceName, s.remoteEndpoint?.serviceName ?? 'unknown'] : [s.remoteEndpoint?.serviceName ?? 'unknown', s.localEndpoint.serviceName]) {
        if (!path.includes(n) && n !== 'unknown') path.push(n);
      }
    }
    return { traceId, requestId: t.requestId, path: path.join(' -> '), startedAt: new Date(start / 1000).toISOString(), durationMs: (end - start) / 1000, spans };
  }

  /** Newest first. */
  list(limit = 20): TraceView[] {
    const out: TraceView[] = [];
    for (const [id, t] of [...this.traces].reverse()) {
      if (out.length >= limit) break;
      out.push(this.view(id, t));
    }
    return out;
  }

  get(idOrRequestId: string): TraceView | undefined {
    const t = this.traces.get(idOrRequestId);
    if (t) return this.view(idOrRequestId, t);
    for (const [id, x] of this.traces) if (x.requestId === idOrRequestId) return this.view(id, x);
    return undefined;
  }

  /** Hands spans of quiet traces (or all, at shutdown) not yet exported to the exporter. */
  sweep(all = false): void {
    const exporter = this.opts.export;
    if (!exporter) return;
    const now = this.now();
    const out: ZipkinSpan[] = [];
    for (const t of this.traces.values()) {
      if (t.exported >= t.spans.length) continue;
      if (!all && now - t.lastAt < this.completeAfterMs) continue;
      const assembled = this.assemble(t);
      const fresh = new Set(t.spans.slice(t.exported).map((s) => s.span.id));
      out.push(...assembled.filter((s) => fresh.has(s.id)));
      t.exported = t.spans.length;
    }
    if (out.length) exporter(out);
  }

  describe(): Record<string, unknown> {
    return { traces: this.traces.size, spansSeen: this.spansSeen };
  }
}
