import type { ReportRecord } from '#api';

/** productpage-v1 -> reviews-v3, as the destination sidecar reports it. */
export function record(over: Partial<ReportRecord> = {}): ReportRecord {
  return {
    reporter: 'destination',
    source: { workload: 'productpage-v1', namespace: 'default', app: 'productpage', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' },
    destination: {
      workload: 'reviews-v3', namespace: 'default', app: 'reviews', version: 'v3', principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
      service: 'reviews.default.svc.cluster.local', serviceName: 'reviews', serviceNamespace: 'default',
    },
    protocol: 'http',
    method: 'GET',
    path: '/reviews/0',
    responseCode: 200,
    responseFlags: '-',
    durationMs: 12,
    requestBytes: 0,
    responseBytes: 350,
    connectionSecurityPolicy: 'mutual_tls',
    timestamp: Date.now(),
    ...over,
  };
}
