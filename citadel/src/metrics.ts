// citadel's Prometheus metrics, named as Istio's Citadel named them, on a per-process Registry.

import { Counter, Gauge, Registry } from 'prom-client';

export interface CitadelMetrics {
  registry: Registry;
  csrCount: Counter;
  issued: Counter;
  refused: Counter<'code'>;
  rootExpiry: Gauge;
}

export function createMetrics(): CitadelMetrics {
  const registry = new Registry();
  return {
    registry,
    csrCount: new Counter({ name: 'citadel_server_csr_count', help: 'CSRs received', registers: [registry] }),
    issued: new Counter({ name: 'citadel_server_success_cert_issuance_count', help: 'certificates issued', registers: [registry] }),
    refused: new Counter({ name: 'citadel_server_csr_refused_count', help: 'CSRs refused, by error code', labelNames: ['code'], registers: [registry] }),
    rootExpiry: new Gauge({ name: 'citadel_server_root_cert_expiry_timestamp', help: 'signing root notAfter, seconds since epoch', registers: [registry] }),
  };
}
