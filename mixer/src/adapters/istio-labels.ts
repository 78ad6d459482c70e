// Istio's standard metric labels, computed from a ReportRecord the way Istio's telemetry does:
// empty values become "unknown", canonical service/revision fall back to app/workload and "latest".
import type { ReportRecord } from '#api';

export const STANDARD_LABEL_NAMES = [
  'reporter',
  'source_app',
  'source_principal',
  'source_workload',
  'source_workload_namespace',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'destination_app',
  'destination_principal',
  'destination_workload',
  'destination_workload_namespace',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'request_protocol',
  'response_code',
  'response_flags',
  'connection_security_policy',
] as const;

export type StandardLabelName = (typeof STANDARD_LABEL_NAMES)[number];
export type StandardLabels = Record<StandardLabelName, string>;

const UNKNOWN = 'unknown';

function orUnknown(v: unknown): string {
  if (typeof v === 'string') return v === '' ? UNKNOWN : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return UNKNOWN;
}

function first(...vs: unknown[]): string {
  for (const v of vs) if (typeof v === 'string' && v !== '') return v;
  return UNKNOWN;
}

/** Istio 1.1 reported `source`/`destination`; anything else is not a reporter we know. */
function reporter(v: unknown): string {
  return v === 'source' || v === 'destination' ? v : UNKNOWN;
}

function responseCode(v: unknown): string {
  // Envoy reports 0 when no response was received (reset, timeout before headers).
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : '0';
}

function securityPolicy(v: unknown): string {
  return v === 'mutual_tls' || v === 'none' ? v : UNKNOWN;
}

/** Total: any record shape (even a malformed one from the wire) gives a full label set. */
export function standardLabels(r: ReportRecord): StandardLabels {
  const s = (r.source ?? {}) as Partial<ReportRecord['source']>;
  const d = (r.destination ?? {}) as Partial<ReportRecord['destination']>;
  return {
    reporter: reporter(r.reporter),
    source_app: orUnknown(s.app),
    source_principal: orUnknown(s.principal),
    source_workload: orUnknown(s.workload),
    source_workload_namespace: orUnknown(s.namespace),
    source_version: orUnknown(s.version),
    source_canonical_service: first(s.app, s.workload),
    source_canonical_revision: first(s.version, 'latest'),
    destination_app: orUnknown(d.app),
    destination_principal: orUnknown(d.principal),
    destination_workload: orUnknown(d.workload),
    destination_workload_namespace: orUnknown(d.namespace),
    destination_version: orUnknown(d.version),
    destination_service: orUnknown(d.service),
    destination_service_name: first(d.serviceName, d.service ? String(d.service).split('.')[0] : ''),
    destination_service_namespace: first(d.serviceNamespace, d.namespace),
    destination_canonical_service: first(d.app, d.workload),
    destination_canonical_revision: first(d.version, 'latest'),
    request_protocol: orUnknown(r.protocol),
    response_code: responseCode(r.responseCode),
    response_flags: typeof r.responseFlags === 'string' && r.responseFlags !== '' ? r.responseFlags : '-',
    connection_security_policy: securityPolicy(r.connectionSecurityPolicy),
  };
}

/** A cheap identity for a label set, computed from the raw record without building the object. */
export function labelKey(r: ReportRecord): string {
  const s = (r.source ?? {}) as Partial<ReportRecord['source']>;
  const d = (r.destination ?? {}) as Partial<ReportRecord['destination']>;
  return `${r.reporter}\u0001${s.app}\u0001${s.principal}\u0001${s.workload}\u0001${s.namespace}\u0001${s.version}\u0001${d.app}\u0001${d.principal}\u0001${d.workload}\u0001${d.namespace}\u0001${d.version}\u0001${d.service}\u0001${d.serviceName}\u0001${d.serviceNamespace}\u0001${r.protocol}\u0001${r.responseCode}\u0001${r.responseFlags}\u0001${r.connectionSecurityPolicy}`;
}
