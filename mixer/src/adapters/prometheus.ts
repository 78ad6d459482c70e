// The prometheus adapter: Istio's standard metrics with their exact names, labels and buckets,
// so Kiali's graph and Istio's Grafana dashboards query them unchanged.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ReportRecord } from '#api';
import type { Adapter } from './adapter.js';
import { STANDARD_LABEL_NAMES, labelKey, standardLabels, type StandardLabels } from './istio-labels.js';

/** Istio's request duration buckets, milliseconds. */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Istio's size buckets: exponential, factor 10, from 1 byte to 10^8. */
export const SIZE_BUCKETS_BYTES = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

/** Istio 1.1's TCP metrics (tcpbytesent, tcpbytereceived, tcpconnectionsopened/closed) carry
 *  the HTTP label set without request_protocol and response_code (response_flags included). */
const TCP_LABEL_NAMES = STANDARD_LABEL_NAMES.filter((n) => n !== 'request_protocol' && n !== 'response_code');

interface HttpChildren {
  requests: { inc(n?: number): void };
  duration: { observe(v: number): void };
  requestBytes: { observe(v: number): void };
  responseBytes: { observe(v: number): void };
}

interface TcpChildren {
  sent: { inc(n?: number): void };
  received: { inc(n?: number): void };
  opened: { inc(n?: number): void };
  closed: { inc(n?: number): void };
}

export interface PrometheusAdapterOptions {
  registry: Registry;
  /** Bound on cached label sets; past it the cache starts again (series stay in the registry). */
  maxCachedLabelSets?: number;
}

export class PrometheusAdapter implements Adapter {
  readonly name = 'prometheus';
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly requestBytes: Histogram<string>;
  private readonly responseBytes: Histogram<string>;
  private readonly tcpSent: Counter<string>;
  private readonly tcpReceived: Counter<string>;
  private readonly tcpOpened: Counter<string>;
  private readonly tcpClosed: Counter<string>;
  // prom-client hashes the label object on every call; caching children by a cheap string key
  // and adding counts once per batch keeps ingestion cheap.
  private readonly httpCache = new Map<string, HttpChildren>();
  private readonly tcpCache = new Map<string, TcpChildren>();
  private readonly maxCached: number;
  private recordsSeen = 0;
  private recordsSkipped = 0;

  constructor(opts: PrometheusAdapterOptions) {
    const registers = [opts.registry];
    const labelNames = [...STANDARD_LABEL_NAMES];
    this.maxCached = opts.maxCachedLabelSets ?? 50_000;
    this.requests = new Counter({ name: 'istio_requests_total', help: 'requests_total', labelNames, registers });
    this.duration = new Histogram({ name: 'istio_request_duration_milliseconds', help: 'request_duration_milliseconds', labelNames, buckets: DURATION_BUCKETS_MS, registers });
    this.requestBytes = new Histogram({ name: 'istio_request_bytes', help: 'request_bytes', labelNames, buckets: SIZE_BUCKETS_BYTES, registers });
    this.responseBytes = new Histogram({ name: 'istio_response_bytes', help: 'response_bytes', labelNames, buckets: SIZE_BUCKETS_BYTES, registers });
    const tcpLabels = [...TCP_LABEL_NAMES];
    this.tcpSent = new Counter({ name: 'istio_tcp_sent_bytes_total', help: 'tcp_sent_bytes_total', labelNames: tcpLabels, registers });
    this.tcpReceived = new Counter({ name: 'istio_tcp_received_bytes_total', help: 'tcp_received_bytes_total', labelNames: tcpLabels, registers });
    this.tcpOpened = new Counter({ name: 'istio_tcp_connections_opened_total', help: 'tcp_connections_opened_total', labelNames: tcpLabels, registers });
    this.tcpClosed = new Counter({ name: 'istio_tcp_connections_closed_total', help: 'tcp_connections_closed_total', labelNames: tcpLabels, registers });
  }

  handleReport(records: readonly ReportRecord[]): void {
    const requestCounts = new Map<HttpChildren, number>();
    for (const r of records) {
      if (r === null || typeof r !== 'object') {
        this.recordsSkipped++;
        continue;
      }
      this.recordsSeen++;
      if (r.protocol === 'tcp') {
        this.handleTcp(r);
        continue;
      }
      const c = this.httpChildren(r);
      requestCounts.set(c, (requestCounts.get(c) ?? 0) + 1);
      if (isSize(r.durationMs)) c.duration.observe(r.durationMs);
      if (isSize(r.requestBytes)) c.requestBytes.observe(r.requestBytes);
      if (isSize(r.responseBytes)) c.responseBytes.observe(r.responseBytes);
    }
    for (const [c, n] of requestCounts) c.requests.inc(n);
  }

  /** Istio 1.1's TCP rules: `opened` counts a connection opened (promtcpconnectionopen),
   *  `closed` counts it closed and adds its bytes (promtcpconnectionclosed, promtcp). A record
   *  without an event (older sidecars) is a whole connection: opened, closed and its bytes. */
  private handleTcp(r: ReportRecord): void {
    const event = r.tcpEvent;
    if (event !== undefined && event !== 'opened' && event !== 'closed') {
      this.recordsSkipped++;
      return;
    }
    const c = this.tcpChildren(r);
    if (event !== 'closed') c.opened.inc();
    if (event === 'opened') return;
    c.closed.inc();
    if (isSize(r.requestBytes) && r.requestBytes > 0) c.received.inc(r.requestBytes);
    if (isSize(r.responseBytes) && r.responseBytes > 0) c.sent.inc(r.responseBytes);
  }

  private httpChildren(r: ReportRecord): HttpChildren {
    const key = labelKey(r);
    let c = this.httpCache.get(key);
    if (!c) {
      if (this.httpCache.size >= this.maxCached) this.httpCache.clear();
      const labels = standardLabels(r);
      c = {
        requests: this.requests.labels(labels),
        duration: this.duration.labels(labels),
        requestBytes: this.requestBytes.labels(labels),
        responseBytes: this.responseBytes.labels(labels),
      };
      this.httpCache.set(key, c);
    }
    return c;
  }

  private tcpChildren(r: ReportRecord): TcpChildren {
    const key = labelKey(r);
    let c = this.tcpCache.get(key);
    if (!c) {
      if (this.tcpCache.size >= this.maxCached) this.tcpCache.clear();
      const labels: Partial<StandardLabels> = standardLabels(r);
      delete labels.request_protocol;
      delete labels.response_code;
      c = {
        sent: this.tcpSent.labels(labels),
        received: this.tcpReceived.labels(labels),
        opened: this.tcpOpened.labels(labels),
        closed: this.tcpClosed.labels(labels),
      };
      this.tcpCache.set(key, c);
    }
    return c;
  }

  describe(): Record<string, unknown> {
    return {
      metrics: ['istio_requests_total', 'istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes', 'istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total', 'istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total'],
      cachedLabelSets: this.httpCache.size + this.tcpCache.size,
      recordsSeen: this.recordsSeen,
      recordsSkipped: this.recordsSkipped,
    };
  }
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
