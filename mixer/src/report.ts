// Telemetry intake: ReportBatches from the bus (queue group `mixer`, so several mixers share
// the load) or over HTTP, checked once, then handed to every adapter.
import { Counter, type Registry } from 'prom-client';
import { subjects, type Bus, type Logger, type ReportBatch, type ReportRecord } from '#api';
import type { Adapter } from './adapters/adapter.js';

export type ReportTransport = 'bus' | 'http';

export type BatchCheck = { ok: true; batch: ReportBatch } | { ok: false; code: string; message: string };

/** Shape check of a batch from the wire; records themselves are mapped leniently by adapters. */
export function checkBatch(data: unknown): BatchCheck {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, code: 'MIXER_BAD_REPORT', message: 'report batch: expected a JSON object { proxyId, records, dropped }' };
  }
  const b = data as Record<string, unknown>;
  if (!Array.isArray(b.records)) return { ok: false, code: 'MIXER_BAD_REPORT', message: 'report batch: field "records" must be an array' };
  if (b.proxyId !== undefined && typeof b.proxyId !== 'string') return { ok: false, code: 'MIXER_BAD_REPORT', message: 'report batch: field "proxyId" must be a string' };
  if (b.dropped !== undefined && !(typeof b.dropped === 'number' && Number.isInteger(b.dropped) && b.dropped >= 0)) {
    return { ok: false, code: 'MIXER_BAD_REPORT', message: 'report batch: field "dropped" must be a non-negative integer' };
  }
  const batch: ReportBatch = { proxyId: (b.proxyId as string | undefined) || 'unknown', records: b.records as ReportRecord[], dropped: (b.dropped as number | undefined) ?? 0 };
  const cc = b.checkCache as Record<string, unknown> | undefined;
  if (cc && typeof cc === 'object') {
    const n = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
    batch.checkCache = { hits: n(cc.hits), misses: n(cc.misses), failOpen: n(cc.failOpen), failClosed: n(cc.failClosed) };
  }
  return { ok: true, batch };
}

interface ProxyReportStats {
  batches: number;
  records: number;
  dropped: number;
  lastReportAt: string;
}

const MAX_TRACKED_PROXIES = 10_000;

export class ReportIngest {
  private readonly batches: Counter<'transport'>;
  private readonly records: Counter<string>;
  private readonly dropped: Counter<string>;
  private readonly rejected: Counter<'transport'>;
  private readonly adapterErrors: Counter<'adapter'>;
  private readonly cacheHits: Counter<string>;
  private readonly cacheMisses: Counter<string>;
  private readonly failPolicy: Counter<'policy'>;
  private readonly totals = { batches: 0, records: 0, dropped: 0, rejected: 0, adapterErrors: 0, checkCacheHits: 0, checkCacheMisses: 0 };
  private readonly perProxy = new Map<string, ProxyReportStats>();

  constructor(private readonly deps: { adapters: readonly Adapter[]; registry: Registry; log: Logger }) {
    const registers = [deps.registry];
    this.batches = new Counter({ name: 'mixer_report_batches_total', help: 'report batches accepted', labelNames: ['transport'], registers });
    this.records = new Counter({ name: 'mixer_report_records_total', help: 'telemetry records accepted', registers });
    this.dropped = new Counter({ name: 'mixer_report_dropped_total', help: 'records sidecars dropped before sending (their buffer was full)', registers });
    this.rejected = new Counter({ name: 'mixer_report_rejected_total', help: 'report batches rejected as malformed', labelNames: ['transport'], registers });
    this.cacheHits = new Counter({ name: 'mixer_check_cache_hits_total', help: 'policy checks sidecars answered from their check cache', registers });
    this.cacheMisses = new Counter({ name: 'mixer_check_cache_misses_total', help: 'policy checks sidecars had to ask mixer', registers });
    this.failPolicy = new Counter({ name: 'mixer_check_fail_policy_total', help: 'requests sidecars decided by their fail policy because mixer was unreachable', labelNames: ['policy'], registers });
    this.adapterErrors = new Counter({ name: 'mixer_adapter_errors_total', help: 'batches an adapter failed to handle', labelNames: ['adapter'], registers });
  }

  /** Never throws: a bad batch is counted and answered, the last good state keeps serving. */
  ingest(data: unknown, transport: ReportTransport): BatchCheck {
    const checked = checkBatch(data);
    if (!checked.ok) {
      this.rejected.inc({ transport });
      this.totals.rejected++;
      this.deps.log.debug({ transport, reason: checked.message }, 'rejected a report batch');
      return checked;
    }
    const { batch } = checked;
    this.batches.inc({ transport });
    this.records.inc(batch.records.length);
    if (batch.dropped > 0) this.dropped.inc(batch.dropped);
    this.totals.batches++;
    this.totals.records += batch.records.length;
    this.totals.dropped += batch.dropped;
    this.trackProxy(batch);
    const cc = batch.checkCache;
    if (cc) {
      if (cc.hits) this.cacheHits.inc(cc.hits);
      if (cc.misses) this.cacheMisses.inc(cc.misses);
      if (cc.failOpen) this.failPolicy.inc({ policy: 'open' }, cc.failOpen);
      if (cc.failClosed) this.failPolicy.inc({ policy: 'closed' }, cc.failClosed);
      this.totals.checkCacheHits += cc.hits;
      this.totals.checkCacheMisses += cc.misses;
    }
    for (const adapter of this.deps.adapters) {
      try {
        adapter.handleReport(batch.records);
      } catch (err) {
        this.adapterErrors.inc({ adapter: adapter.name });
        this.totals.adapterErrors++;
        this.deps.log.warn({ err, adapter: adapter.name, proxyId: batch.proxyId }, 'adapter failed on a report batch');
      }
    }
    return checked;
  }

  private trackProxy(batch: ReportBatch): void {
    let s = this.perProxy.get(batch.proxyId);
    if (!s) {
      if (this.perProxy.size >= MAX_TRACKED_PROXIES) this.perProxy.clear();
      s = { batches: 0, records: 0, dropped: 0, lastReportAt: '' };
      this.perProxy.set(batch.proxyId, s);
    }
    s.batches++;
    s.records += batch.records.length;
    s.dropped += batch.dropped;
    s.lastReportAt = new Date().toISOString();
  }

  stats(): { totals: ReportIngest['totals']; proxies: Record<string, ProxyReportStats> } {
    return { totals: { ...this.totals }, proxies: Object.fromEntries(this.perProxy) };
  }
}

/** Feeds the bus subject into the ingest; the queue group lets several mixers split the reports. */
export function subscribeReports(bus: Bus, ingest: ReportIngest) {
  return bus.subscribe<unknown>(subjects.telemetryReport, (m) => { ingest.ingest(m.data, 'bus'); }, { queue: 'mixer' });
}
