// A Bookinfo-shaped mesh for generator tests: the workloads as their sidecars announce
// them, and Istio's own Bookinfo routing YAML (gateway, destination rules, reviews rules).
import { parseAllDocuments } from 'yaml';
import type { ConfigSnapshot, ProxyAnnouncement, RegistrySnapshot, Resource } from '#api';
import { announcementToRegistry } from '../../../pilot/src/registry/announce.js';
import { mergeSnapshots } from '../../../pilot/src/registry/aggregate.js';
import { buildPushContext, type PushContext } from '../../../pilot/src/model/push-context.js';

const serviceAccounts: Record<string, string> = {
  productpage: 'bookinfo-productpage', details: 'bookinfo-details', reviews: 'bookinfo-reviews', ratings: 'bookinfo-ratings',
};

let nextIp = 10;
export function sidecar(app: string, version: string, opts: { services?: string[]; ip?: string } = {}): ProxyAnnouncement {
  const ip = opts.ip ?? `10.1.0.${nextIp++}`;
  const services = opts.services ?? [app];
  return {
    proxyId: `${app}-${version}-abcde.default`,
    kind: 'sidecar',
    workload: {
      name: `${app}-${version}`,
      namespace: 'default',
      serviceAccount: serviceAccounts[app] ?? app,
      labels: { app, version },
      services,
      ports: services.length ? [{ name: 'http', port: 9080, targetPort: 19080, protocol: 'HTTP' }] : [],
    },
    inbound: { address: ip, port: 15006 },
    outbound: { address: '127.0.0.1', port: 15001 },
    admin: { address: '127.0.0.1', port: 15000 },
    register: true,
    startedAt: '2019-03-01T00:00:00.000Z',
  };
}

export function ingressGateway(): ProxyAnnouncement {
  return {
    proxyId: 'istio-ingressgateway-abcde.default',
    kind: 'gateway',
    workload: { name: 'istio-ingressgateway', namespace: 'default', serviceAccount: 'istio-ingressgateway', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, services: [], ports: [] },
    inbound: { address: '10.1.0.2', port: 15006 },
    register: false,
    startedAt: '2019-03-01T00:00:00.000Z',
  };
}

export function bookinfoProxies() {
  nextIp = 10;
  return {
    productpage: sidecar('productpage', 'v1'),
    details: sidecar('details', 'v1'),
    reviewsV1: sidecar('reviews', 'v1'),
    reviewsV2: sidecar('reviews', 'v2'),
    reviewsV3: sidecar('reviews', 'v3'),
    ratings: sidecar('ratings', 'v1'),
    gateway: ingressGateway(),
  };
}

export function registryOf(announcements: ProxyAnnouncement[]): RegistrySnapshot {
  return mergeSnapshots(announcements.map(announcementToRegistry));
}

export function parseResources(text: string, file = 'inline.yaml'): Resource[] {
  const out: Resource[] = [];
  for (const doc of parseAllDocuments(text)) {
    const r = doc.toJS() as Resource | null;
    if (!r || typeof r !== 'object') continue;
    r.metadata = { ...r.metadata, namespace: r.metadata?.namespace ?? 'default' };
    r.source = { file, line: 1 };
    out.push(r);
  }
  return out;
}

export function snapshotOf(resources: Resource[], version = 'test-1'): ConfigSnapshot {
  return { version, publishedAt: '2019-03-01T00:00:00.000Z', resources };
}

// samples/bookinfo/networking/bookinfo-gateway.yaml (Istio 1.1)
export const BOOKINFO_GATEWAY = `
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts:
  - "*"
  gateways:
  - bookinfo-gateway
  http:
  - match:
    - uri:
        exact: /productpage
    - uri:
        exact: /login
    - uri:
        exact: /logout
    - uri:
        prefix: /api/v1/products
    route:
    - destination:
        host: productpage
        port:
          number: 9080
`;

// samples/bookinfo/networking/destination-rule-all.yaml (Istio 1.1)
export const DESTINATION_RULE_ALL = `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: productpage
spec:
  host: productpage
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`;

// samples/bookinfo/networking/virtual-service-reviews-test-v2.yaml
export const REVIEWS_JASON_V2 = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v1
`;

// samples/bookinfo/networking/virtual-service-reviews-80-20.yaml
export const REVIEWS_80_20 = `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
`;

/** The mesh most tests use: every workload, the gateway, destination rules, jason -> v2. */
export function bookinfoPush(extraYaml = REVIEWS_JASON_V2): { push: PushContext; proxies: ReturnType<typeof bookinfoProxies> } {
  const proxies = bookinfoProxies();
  const registry = registryOf(Object.values(proxies));
  const resources = [
    ...parseResources(BOOKINFO_GATEWAY, 'bookinfo-gateway.yaml'),
    ...parseResources(DESTINATION_RULE_ALL, 'destination-rule-all.yaml'),
    ...parseResources(extraYaml, 'reviews.yaml'),
  ];
  return { push: buildPushContext(snapshotOf(resources), registry), proxies };
}
