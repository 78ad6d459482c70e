// The demo workloads of process mode: Bookinfo, httpbin v1/v2, sleep, and the ingress gateway,
// with Istio's workload names, labels and service accounts (compose/compose.yaml mirrors these).

export interface DemoWorkload {
  /** Istio's workload (deployment) name: `reviews-v2`. */
  workload: string;
  /** The service it backs; absent for clients such as sleep. */
  service?: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** The service port clients address. */
  port: number;
  /** services/src/<entry>/main.ts */
  entry: string;
  env?: Record<string, string>;
}

const bookinfo = (app: string, version: string, env: Record<string, string> = {}): DemoWorkload => ({
  workload: `${app}-${version}`,
  service: app,
  serviceAccount: `bookinfo-${app}`,
  labels: { app, version },
  port: 9080,
  entry: app,
  env: { SERVICE_VERSION: version, ...env },
});

export const demoWorkloads: DemoWorkload[] = [
  bookinfo('productpage', 'v1'),
  bookinfo('details', 'v1'),
  bookinfo('reviews', 'v1', { ENABLE_RATINGS: 'false' }),
  bookinfo('reviews', 'v2', { ENABLE_RATINGS: 'true', STAR_COLOR: 'black' }),
  bookinfo('reviews', 'v3', { ENABLE_RATINGS: 'true', STAR_COLOR: 'red' }),
  bookinfo('ratings', 'v1'),
  { workload: 'httpbin-v1', service: 'httpbin', serviceAccount: 'httpbin', labels: { app: 'httpbin', version: 'v1' }, port: 8000, entry: 'httpbin', env: { SERVICE_VERSION: 'v1' } },
  { workload: 'httpbin-v2', service: 'httpbin', serviceAccount: 'httpbin', labels: { app: 'httpbin', version: 'v2' }, port: 8000, entry: 'httpbin', env: { SERVICE_VERSION: 'v2' } },
  { workload: 'sleep', serviceAccount: 'sleep', labels: { app: 'sleep', version: 'v1' }, port: 80, entry: 'sleep' },
];

export const ingressGateway = {
  workload: 'istio-ingressgateway',
  serviceAccount: 'istio-ingressgateway-service-account',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
};
