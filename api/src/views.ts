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

/** mixer /debug/edges: one caller -> callee pair over the sliding window (linkerd's stat columns). */
export interface EdgeEnd {
  workload: string;
  namespace: string;
  app: string;
  version: string;
}

export interface EdgeView {
  source: EdgeEnd;
  destination: EdgeEnd & { service: string; serviceName: string };
  protocol: string;
  /** Which proxy's reports this edge is counted from (source, unless the caller is outside the mesh). */
  reporter: 'source' | 'destination';
  /** Requests per second over the window. */
  rps: number;
  /** Share of requests in the window that failed (5xx, or no response). */
  errorRate: number;
  /** Share answered 4xx. */
  clientErrorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests in the window, and since the edge was first seen. */
  windowRequests: number;
  totalRequests: number;
  totalErrors: number;
  /** Share of requests in the window sent over mutual TLS. */
  mtls: number;
  codes: Record<string, number>;
  lastSeen: string;
}

export interface EdgesView {
  windowSeconds: number;
  generatedAt: string;
  edges: EdgeView[];
}

/** mixer /debug/requests: one hop of a recent request, as a proxy reported it. */
export interface RequestSpanView {
  reporter: 'source' | 'destination';
  source: string;
  destination: string;
  service: string;
  method?: string;
  path?: string;
  responseCode: number;
  responseFlags: string;
  /** ms since epoch */
  startMs: number;
  durationMs: number;
  mtls: boolean;
}

/** A recent request with its hops, grouped by x-request-id. */
export interface RequestTraceView {
  requestId: string;
  startMs: number;
  durationMs: number;
  spans: RequestSpanView[];
}

export interface RecentRequestsView {
  traces: RequestTraceView[];
}
