// Bookinfo as pilot and mixer describe it: the console's test fixtures.
import type { EdgeStat, RegistryzBody, SyncRow } from '../../../console/src/views/inputs.js';

export const host = (s: string) => `${s}.default.svc.cluster.local`;
const instance = (service: string, workload: string, version: string) => ({
  service: host(service), address: '127.0.0.1', port: 1, servicePort: 9080, labels: { app: service, version }, workload,
  namespace: 'default', serviceAccount: `bookinfo-${service}`, tlsMode: 'istio' as const, healthy: true, source: 'announce' as const,
});
export const registry: RegistryzBody = {
  services: ['productpage', 'details', 'reviews', 'ratings'].map((s) => ({ hostname: host(s), name: s, namespace: 'default', ports: [{ name: 'http', port: 9080, protocol: 'HTTP' as const }], source: 'announce' as const })),
  instances: [
    instance('productpage', 'productpage-v1', 'v1'), instance('details', 'details-v1', 'v1'),
    instance('reviews', 'reviews-v1', 'v1'), instance('reviews', 'reviews-v2', 'v2'), instance('reviews', 'reviews-v3', 'v3'),
    instance('ratings', 'ratings-v1', 'v1'),
  ],
};
export const proxies: SyncRow[] = [
  ...registry.instances.map((i) => ({ proxy: `${i.workload}-abcde.default`, workload: i.workload, namespace: 'default', kind: 'sidecar', status: 'SYNCED' as const, labels: i.labels })),
  { proxy: 'istio-ingressgateway-x.default', workload: 'istio-ingressgateway', namespace: 'default', kind: 'gateway', status: 'SYNCED' as const, labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } },
];
const end = (workload: string, version = 'v1') => ({ workload, namespace: 'default', app: workload.split('-')[0]!, version });
export function edge(from: string, to: string, service: string, over: Partial<EdgeStat> = {}): EdgeStat {
  return {
    source: end(from), destination: { ...end(to, to.split('-').pop()), service: host(service), serviceName: service },
    protocol: 'http', reporter: 'source', rps: 2, errorRate: 0, clientErrorRate: 0, p50Ms: 10, p99Ms: 50, windowRequests: 60, totalRequests: 60, totalErrors: 0,
    mtls: 1, codes: { '200': 60 }, lastSeen: '2026-01-01T00:00:00.000Z', ...over,
  };
}
export const edges = {
  windowSeconds: 30, generatedAt: '2026-01-01T00:00:00.000Z',
  edges: [
    edge('istio-ingressgateway', 'productpage-v1', 'productpage'),
    edge('productpage-v1', 'details-v1', 'details'),
    edge('productpage-v1', 'reviews-v1', 'reviews', { rps: 1, windowRequests: 30, p99Ms: 40 }),
    edge('productpage-v1', 'reviews-v2', 'reviews', { rps: 1, windowRequests: 30, p99Ms: 90, errorRate: 0.5 }),
    edge('reviews-v2', 'ratings-v1', 'ratings', { mtls: 0.5 }),
  ],
};

