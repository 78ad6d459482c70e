// Zipkin v2 JSON export: spans of completed traces POSTed in batches to a configured
// collector (`http://zipkin:9411/api/v2/spans`), from a bounded queue that counts what it drops.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '#api';
import type { ZipkinSpan } from './traces.js';

export interface ZipkinExporterOptions {
  url: string;
  registry: Registry;
  log: Logger;
  maxQueue?: number;
  maxBatch?: number;
  flushMs?: number;
  timeoutMs?: number;
}

export class ZipkinExporter {
  private queue: ZipkinSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly exported: Counter<string>;
  private readonly dropped: Counter<string>;
  private readonly errors: Counter<string>;
  readonly stats = { exported: 0, dropped: 0, errors: 0 };

  constructor(private readonly opts: ZipkinExporterOptions) {
    const registers = [opts.registry];
    this.exported = new Counter({ name: 'mixer_zipkin_spans_exported_total', help: 'spans the collector accepted', registers });
    this.dropped = new Counter({ name: 'mixer_zipkin_spans_dropped_total', help: 'spans dropped (queue full or the collector refused them)', registers });
    this.errors = new Counter({ name: 'mixer_zipkin_export_errors_total', help: 'failed POSTs to the collector', registers });
  }

  enqueue(spans: readonly ZipkinSpan[]): void {
    const room = (this.opts.maxQueue ?? 10_000) - this.queue.length;
    const take = spans.slice(0, Math.max(0, room));
    this.queue.push(...take);
    const lost = spans.length - take.length;
    if (lost > 0) { this.dropped.inc(lost); this.stats.dropped += lost; }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.flush(); }, this.opts.flushMs ?? 1000);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 1000);
    this.inFlight = (async () => {
      try {
        const res = await fetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`collector answered ${res.status}`);
        this.exported.inc(batch.length);
        this.stats.exported += batch.length;
      } catch (err) {
        this.errors.inc();
        this.stats.errors++;
        this.dropped.inc(batch.length);
        this.stats.dropped += batch.length;
        this.opts.log.warn({ code: 'MIXER_ZIPKIN_EXPORT', err: (err as Error).message, spans: batch.length, url: this.opts.url }, 'zipkin export failed; spans dropped');
      }
    })().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
