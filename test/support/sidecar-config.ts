// ProxyConfig fixtures shaped like pilot's output (reviews on 9080 with v1/v2 subsets),
// for sidecar tests that play pilot.
import { clusterName, hostAliases, spiffeId, type Cluster, type Endpoint, type ProxyConfig, type Route } from '#api';

export const REVIEWS = 'reviews.default.svc.cluster.local';

export interface ReviewsEndpoints {
  v1: Endpoint[];
  v2: Endpoint[];
}

export function reviewsCluster(subset: string, extra: Partial<Cluster> = {}): Cluster {
  return {
    name: clusterName('outbound', 9080, subset, REVIEWS),
    type: 'EDS',
    service: REVIEWS,
    port: 9080,
    ...(subset ? { subset } : {}),
    protocol: 'HTTP',
    lbPolicy: 'ROUND_ROBIN',
    connectTimeoutMs: 1000,
    tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: [spiffeId('default', 'bookinfo-reviews')] },
    ...extra,
  };
}

export function endpoint(address: string, port: number, version: string, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    address, port, healthy: true,
    labels: { app: 'reviews', version },
    workload: `reviews-${version}`,
    identity: spiffeId('default', 'bookinfo-reviews'),
    ...extra,
  };
}

/** Routes `reviews:9080`: `end-user: jason` -> v2, everything else -> v1. */
export function reviewsConfig(proxyId: string, eps: ReviewsEndpoints, opts: { routes?: Route[]; clusters?: Cluster[] } = {}): ProxyConfig {
  const v1 = clusterName('outbound', 9080, 'v1', REVIEWS);
  const v2 = clusterName('outbound', 9080, 'v2', REVIEWS);
  const routes: Route[] = opts.routes ?? [
    { name: 'jason', match: { path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, action: { kind: 'route', clusters: [{ name: v2, weight: 100 }] } },
    { name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'route', clusters: [{ name: v1, weight: 100 }] } },
  ];
  return {
    node: { id: proxyId, kind: 'sidecar', workload: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage', labels: { app: 'productpage', version: 'v1' } },
    listeners: [{ name: 'virtualOutbound', kind: 'outbound', port: 15001, protocol: 'HTTP' }],
    routes: [{ name: '9080', virtualHosts: [{ name: `${REVIEWS}:9080`, domains: hostAliases(REVIEWS, 9080), routes }] }],
    clusters: opts.clusters ?? [reviewsCluster(''), reviewsCluster('v1'), reviewsCluster('v2')],
    endpoints: [
      { cluster: clusterName('outbound', 9080, '', REVIEWS), endpoints: [...eps.v1, ...eps.v2] },
      { cluster: v1, endpoints: eps.v1 },
      { cluster: v2, endpoints: eps.v2 },
    ],
    // Unknown hosts get 502 NR instead of a passthrough that would look them up in DNS.
    outboundTrafficPolicy: 'REGISTRY_ONLY',
  };
}
