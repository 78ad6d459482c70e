// The service registry model: what pilot knows about services and the workloads behind them,
// whatever platform they came from (Docker, sidecar announcements, ServiceEntry).

export type Protocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS' | 'HTTPS';

export interface ServicePort {
  /** Istio infers protocol from the name prefix (`http-`, `tcp-`, `grpc-`) when not given. */
  name: string;
  /** The port clients address (`reviews:9080`). */
  port: number;
  protocol: Protocol;
}

export type RegistrySource = 'docker' | 'announce' | 'config';

export interface Service {
  /** Fully qualified: `reviews.default.svc.cluster.local`. */
  hostname: string;
  name: string;
  namespace: string;
  ports: ServicePort[];
  source: RegistrySource;
  /** External services (ServiceEntry MESH_EXTERNAL) are reached without mTLS. */
  meshExternal?: boolean;
}

export interface WorkloadInstance {
  /** The service hostname this instance backs. */
  service: string;
  /** Where a client sidecar connects: the workload's mTLS inbound listener. */
  address: string;
  port: number;
  /** The service port this instance serves (9080 for reviews). */
  servicePort: number;
  labels: Record<string, string>;
  /** `reviews-v2`: Istio's workload name (deployment), also used in telemetry. */
  workload: string;
  namespace: string;
  serviceAccount: string;
  /** Set when a sidecar fronts this instance; absent for plain endpoints (no mTLS). */
  proxyId?: string;
  /** `istio` when a sidecar terminates mTLS for it, `disabled` otherwise. */
  tlsMode: 'istio' | 'disabled';
  healthy: boolean;
  source: RegistrySource;
}

export interface RegistrySnapshot {
  services: Service[];
  instances: WorkloadInstance[];
}

/** Istio's protocol selection by port name prefix (`http-web`, `tcp-db`, `grpc`). */
export function protocolFromPortName(name: string | undefined, fallback: Protocol = 'TCP'): Protocol {
  const prefix = (name ?? '').toLowerCase().split('-')[0];
  switch (prefix) {
    case 'http': return 'HTTP';
    case 'http2': return 'HTTP2';
    case 'grpc': case 'grpc-web': return 'GRPC';
    case 'https': return 'HTTPS';
    case 'tls': return 'TLS';
    case 'tcp': case 'mongo': case 'mysql': case 'redis': return 'TCP';
    default: return fallback;
  }
}
