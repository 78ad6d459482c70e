// Builds the ReportRecord once the exchange is over (the hook runs after the response ended
// or the client left), so the request path only pushes one closure; the record's peer halves
// are built once per endpoint or service and shared (DestinationCache).

import { performance } from 'node:perf_hooks';
import type { PeerInfo, ReportRecord } from '#api';
import type { Exchange, Layer } from '../exchange.js';
import type { TelemetryReporter } from '../telemetry.js';

const UNKNOWN: PeerInfo = { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: '' };

export interface TelemetryLayerOptions {
  reporter: TelemetryReporter;
  /** source: outbound and gateway; destination: inbound. */
  kind: 'source' | 'destination';
  /** This workload, principal included. */
  self: () => PeerInfo;
}

function splitHost(authority: string): string {
  const colon = authority.lastIndexOf(':');
  return colon > 0 && !authority.endsWith(']') ? authority.slice(0, colon) : authority;
}

type Destination = ReportRecord['destination'];

/**
 * The destination half of a record is the same for every request to one endpoint (source
 * side) or to one local service (destination side): built once and shared by the records
 * (they are only serialised), so a request costs the numbers and strings it really carries.
 * Source side: keyed by the endpoint (each belongs to one cluster); destination side: by the
 * service, for the current `self` (a new certificate gives a new `self`, hence a new cache).
 */
export class DestinationCache {
  private readonly byEndpoint = new WeakMap<object, Destination>();
  private byService = new Map<string, Destination>();
  private selfFor: PeerInfo | undefined;

  /** Source side: the endpoint's workload with its cluster's service; undefined when it
   *  depends on the request (no endpoint, or a service named by the authority). */
  endpoint(ex: Exchange): Destination | undefined {
    const e = ex.endpoint;
    const c = ex.cluster;
    if (!e || !c || c.service === 'unknown') return undefined;
    let d = this.byEndpoint.get(e);
    if (!d) {
      d = { ...e.destination, service: c.service, serviceName: c.serviceName, serviceNamespace: c.serviceNamespace || 'unknown' };
      this.byEndpoint.set(e, d);
    }
    return d;
  }

  /** Destination side: this workload serving `service`. */
  local(self: PeerInfo, service: string): Destination {
    if (self !== this.selfFor) { this.byService = new Map(); this.selfFor = self; }
    let d = this.byService.get(service);
    if (!d) {
      const parts = service.split('.');
      d = { ...self, service, serviceName: parts[0] ?? service, serviceNamespace: parts.length > 1 ? parts[1]! : self.namespace };
      // A workload serves a handful of names; the bound only guards against Host-header noise.
      if (this.byService.size >= 64) this.byService.clear();
      this.byService.set(service, d);
    }
    return d;
  }
}

function destinationOf(ex: Exchange, kind: 'source' | 'destination', self: PeerInfo, cache: DestinationCache | undefined): Destination {
  if (kind === 'destination') {
    const service = ex.destinationService ?? 'unknown';
    if (cache) return cache.local(self, service);
    const parts = service.split('.');
    return { ...self, service, serviceName: parts[0] ?? service, serviceNamespace: parts.length > 1 ? parts[1]! : self.namespace };
  }
  const cached = cache?.endpoint(ex);
  if (cached) return cached;
  const destination = ex.endpoint?.destination ?? UNKNOWN;
  const c = ex.cluster;
  const service = c && c.service !== 'unknown' ? c.service : splitHost(ex.authority) || 'unknown';
  const serviceName = c && c.service !== 'unknown' ? c.serviceName : service;
  return { ...destination, service, serviceName, serviceNamespace: c?.serviceNamespace || 'unknown' };
}

export function buildRecord(ex: Exchange, status: number, kind: 'source' | 'destination', self: PeerInfo, cache?: DestinationCache): ReportRecord {
  const rid = ex.headers['x-request-id'];
  const q = ex.path.indexOf('?');
  const record: ReportRecord = {
    reporter: kind,
    source: kind === 'source' ? self : ex.source ?? UNKNOWN,
    destination: destinationOf(ex, kind, self, cache),
    protocol: 'http',
    method: ex.method,
    path: q < 0 ? ex.path : ex.path.slice(0, q),
    responseCode: status,
    responseFlags: ex.flags.length ? ex.flags.join(',') : '-',
    durationMs: Math.round((performance.now() - ex.startedAt) * 1000) / 1000,
    requestBytes: ex.requestBytes,
    responseBytes: ex.responseBytes,
    connectionSecurityPolicy: kind === 'destination' ? (ex.source?.principal ? 'mutual_tls' : 'none') : ex.cluster ? (ex.cluster.mtls ? 'mutual_tls' : 'none') : 'unknown',
    timestamp: Date.now(),
  };
  if (typeof rid === 'string') record.requestId = rid;
  return record;
}

export function telemetryLayer(opts: TelemetryLayerOptions): Layer {
  const cache = new DestinationCache();
  const hook = (ex: Exchange, status: number) => opts.reporter.record(buildRecord(ex, status, opts.kind, opts.self(), cache));
  return (next) => (ex) => {
    ex.onEnd.push(hook);
    return next(ex);
  };
}
