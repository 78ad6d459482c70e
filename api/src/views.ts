// The JSON views components serve of their own world (STYLE.md: diagnostics are data).
// meshctl and the console read these; the component that serves one builds it from here.

/** galley: one validation or analysis message (Istio's shape, pkg/config/analysis/msg). */
export type MessageLevel = 'Error' | 'Warning' | 'Info';

export interface AnalysisMessage {
  code: string;
  level: MessageLevel;
  message: string;
  /** `VirtualService default/reviews`; absent when the problem is not inside one resource. */
  resource?: string;
  file?: string;
  line?: number;
  column?: number;
  /** `spec.http[0].route[1].weight` */
  field?: string;
}

/** pilot /debug/syncz: one row per proxy (istioctl proxy-status). */
export interface ProxySyncRow {
  proxy: string;
  workload: string;
  namespace?: string;
  kind?: string;
  status: 'SYNCED' | 'NOT SENT' | 'STALE' | 'NACKED';
  /** The version last sent. */
  version?: string;
  ackedVersion?: string;
  /** The proxy's NACK error. */
  error?: string;
  /** host:port of the proxy's mTLS inbound listener. */
  inbound?: string;
  outbound?: string;
  admin?: string;
  lastPushAt?: string;
  lastAckAt?: string;
  labels?: Record<string, string>;
}
