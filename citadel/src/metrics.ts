// citadel's Prometheus metrics, named as Istio's Citadel named them, on a per-process Registry.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface CitadelMetrics {
  registry: Registry;
  csrCount: Counter;
  issued: Counter;
  refused: Counter<'code'>;
  rootExpiry: Gauge;
  /** Time to sign one certificate (attestation excluded). */
  signSeconds?: Histogram;
}

export function createMetrics(): CitadelMetrics {
  const registry = new Registry();
  return {
    registry,
    csrCount: new Counter({ name: 'citadel_server_csr_count', help: 'CSRs received', registers: [registry] }),
    issued: new Counter({ name: 'citadel_server_success_cert_issuance_count', help: 'certificates issued', registers: [registry] }),
    refused: new Counter({ name: 'citadel_server_csr_refused_count', help: 'CSRs refused, by error code', labelNames: ['code'], registers: [registry] }),
    rootExpiry: new Gauge({ name: 'citadel_server_root_cert_expiry_timestamp', help: 'signing root notAfter, seconds since epoch', registers: [registry] }),
    signSeconds: new Histogram({ name: 'citadel_server_csr_sign_duration_seconds', help: 'time to sign a certificate', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] }),
  };
}
