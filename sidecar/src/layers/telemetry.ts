// Builds the ReportRecord once the exchange is over (the hook runs after the response ended
// or the client left), so the request path only pushes one closure.

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

export function buildRecord(ex: Exchange, status: number, kind: 'source' | 'destination', self: PeerInfo): ReportRecord {
  let source: PeerInfo;
  let destination: PeerInfo;
  let service: string;
  let serviceName: string;
  let serviceNamespace: string;
  if (kind === 'source') {
    source = self;
    destination = ex.endpoint?.destination ?? UNKNOWN;
    const c = ex.cluster;
    service = c && c.service !== 'unknown' ? c.service : splitHost(ex.authority) || 'unknown';
    serviceName = c && c.service !== 'unknown' ? c.serviceName : service;
    serviceNamespace = c?.serviceNamespace || 'unknown';
  } else {
    source = ex.source ?? UNKNOWN;
    destination = self;
    service = ex.destinationService ?? 'unknown';
    const parts = service.split('.');
    serviceName = parts[0] ?? service;
    serviceNamespace = parts.length > 1 ? parts[1]! : self.namespace;
  }
  const rid = ex.headers['x-request-id'];
  const q = ex.path.indexOf('?');
  const record: ReportRecord = {
    reporter: kind,
    source,
    destination: { ...destination, service, serviceName, serviceNamespace },
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
  const hook = (ex: Exchange, status: number) => opts.reporter.record(buildRecord(ex, status, opts.kind, opts.self()));
  return (next) => (ex) => {
    ex.onEnd.push(hook);
    return next(ex);
  };
}
