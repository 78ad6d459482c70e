// Attribute bags: a check request or a report record seen through Istio 1.1's vocabulary
// (api/src/mixer-attributes.ts), typed by the attribute manifest, recording what was read.
// The references a check read are what the sidecar caches the answer under.

import { attributeRef, checkAttribute, type CheckRequest, type RawAttribute, type ReportRecord } from '#api';
import { Duration, IpAddress, normalizeIp, type AttributeBag, type Value } from './expression.js';

/** Attributes whose raw form (string / ms) is typed by the manifest. */
const IP_ATTRIBUTES = new Set(['source.ip', 'destination.ip']);
const TIME_ATTRIBUTES = new Set(['request.time', 'response.time', 'context.time']);
const DURATION_ATTRIBUTES = new Set(['response.duration', 'connection.duration']);

function typed(name: string, raw: RawAttribute | undefined): Value | undefined {
  if (raw === undefined) return undefined;
  if (IP_ATTRIBUTES.has(name) && typeof raw === 'string') {
    try { return new IpAddress(normalizeIp(raw)); } catch { return undefined; }
  }
  if (TIME_ATTRIBUTES.has(name) && typeof raw === 'number') return new Date(raw);
  if (DURATION_ATTRIBUTES.has(name) && typeof raw === 'number') return new Duration(raw);
  return raw;
}

export class RecordingBag implements AttributeBag {
  /** Every reference read, in first-read order. */
  readonly referenced = new Set<string>();
  constructor(private readonly raw: (name: string) => RawAttribute | undefined) {}

  get(name: string): Value | undefined {
    this.referenced.add(name);
    return typed(name, this.raw(name));
  }

  getKey(name: string, key: string): Value | undefined {
    this.referenced.add(attributeRef(name, key));
    const m = this.raw(name);
    if (m === undefined || m === null || typeof m !== 'object') return undefined;
    return m[key];
  }

  /** Sorted, so equal dependency sets give equal cache shapes on the sidecar. */
  references(): string[] {
    return [...this.referenced].sort();
  }
}

export function checkBag(req: CheckRequest): RecordingBag {
  return new RecordingBag((name) => checkAttribute(req, name));
}

/** A report record as the check vocabulary sees it, plus response.*, connection.* and the
 *  proxy's error code (Envoy's response flags, `context.proxy_error_code`). */
export function reportBag(r: ReportRecord): RecordingBag {
  const d = (r.destination ?? {}) as Partial<ReportRecord['destination']>;
  const asCheck: CheckRequest = {
    proxyId: '',
    source: r.source,
    destination: { ...(d as ReportRecord['destination']) },
    request: { method: r.method ?? '', path: r.path ?? '', time: typeof r.timestamp === 'number' ? r.timestamp - (r.durationMs ?? 0) : Date.now() },
    reporterKind: r.reporter === 'source' ? 'outbound' : 'inbound',
    protocol: r.protocol,
    connection: { mtls: r.connectionSecurityPolicy === 'mutual_tls' },
  };
  if (r.method === undefined) delete asCheck.request;
  const http = r.protocol !== 'tcp';
  return new RecordingBag((name) => {
    switch (name) {
      case 'response.code': return http && typeof r.responseCode === 'number' ? r.responseCode : undefined;
      case 'response.size': case 'response.total_size': return http ? r.responseBytes : undefined;
      case 'request.size': case 'request.total_size': return http ? r.requestBytes : undefined;
      case 'response.duration': return http ? r.durationMs : undefined;
      case 'response.time': return typeof r.timestamp === 'number' ? r.timestamp : undefined;
      case 'request.id': return r.requestId;
      case 'request.headers': {
        // Records carry the request id and trace context, not all headers.
        const h: Record<string, string> = {};
        if (r.requestId) h['x-request-id'] = r.requestId;
        if (r.traceId) h['x-b3-traceid'] = r.traceId;
        if (r.spanId) h['x-b3-spanid'] = r.spanId;
        if (r.parentSpanId) h['x-b3-parentspanid'] = r.parentSpanId;
        return h;
      }
      case 'context.proxy_error_code': return r.responseFlags && r.responseFlags !== '-' ? r.responseFlags : undefined;
      case 'context.time': return r.timestamp;
      case 'connection.received.bytes': case 'connection.received.bytes_total': return http ? undefined : r.requestBytes;
      case 'connection.sent.bytes': case 'connection.sent.bytes_total': return http ? undefined : r.responseBytes;
      case 'connection.duration': return http ? undefined : r.durationMs;
      // Istio's values: open, close (and continue, for periodic reports we do not send).
      case 'connection.event': return http ? undefined : r.tcpEvent === 'opened' ? 'open' : 'close';
      case 'connection.id': return r.requestId;
      case 'api.protocol': return r.protocol;
      default: return checkAttribute(asCheck, name);
    }
  });
}
