// TCP telemetry: one ReportRecord when a connection is accepted (`tcpEvent: 'opened'`, bytes
// 0) and one when it ends (`closed`, with bytes each way and the lifetime), from each side's
// proxy (source: the client sidecar, destination: the server sidecar). Mixer turns them into
// istio_tcp_connections_opened_total / closed_total and istio_tcp_{sent,received}_bytes_total.

import { performance } from 'node:perf_hooks';
import type { PeerInfo, ReportRecord, ResponseFlag } from '#api';
import type { TelemetryReporter } from '../telemetry.js';

export const UNKNOWN_PEER: PeerInfo = { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: '' };

export interface TcpConnectionInfo {
  reporter: 'source' | 'destination';
  source: PeerInfo;
  destination: PeerInfo;
  service: string;
  mtls: boolean;
}

/** One connection's records: `opened()` at accept, `closed()` once (later calls ignored). */
export class TcpConnectionReport {
  private readonly startedAt = performance.now();
  private done = false;
  readonly flags: ResponseFlag[] = [];
  /** From the client (received by this proxy from downstream). */
  received = 0;
  /** Toward the client. */
  sent = 0;

  constructor(private readonly reporter: TelemetryReporter, public info: TcpConnectionInfo) {}

  private record(event: 'opened' | 'closed'): ReportRecord {
    const parts = this.info.service.split('.');
    return {
      reporter: this.info.reporter,
      source: this.info.source,
      destination: {
        ...this.info.destination,
        service: this.info.service,
        serviceName: parts[0] ?? this.info.service,
        serviceNamespace: parts.length > 1 ? parts[1]! : this.info.destination.namespace,
      },
      protocol: 'tcp',
      tcpEvent: event,
      responseCode: 0,
      responseFlags: this.flags.length ? this.flags.join(',') : '-',
      durationMs: event === 'opened' ? 0 : Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      requestBytes: event === 'opened' ? 0 : this.received,
      responseBytes: event === 'opened' ? 0 : this.sent,
      connectionSecurityPolicy: this.info.mtls ? 'mutual_tls' : 'none',
      timestamp: Date.now(),
    };
  }

  opened(): void {
    this.reporter.record(this.record('opened'));
  }

  flag(f: ResponseFlag): void {
    if (!this.flags.includes(f)) this.flags.push(f);
  }

  closed(): void {
    if (this.done) return;
    this.done = true;
    this.reporter.record(this.record('closed'));
  }
}
