// The bus contract: every subject the parts use and the message each carries.
// Parts never call each other's code; this file and the resource schemas are all they share.

import type { Resource } from './resources.js';
import type { ProxyConfig, ProxyKind } from './proxy-config.js';
import type { Protocol } from './registry.js';

/** NATS subject tokens cannot hold `.`, `*`, `>` or spaces. */
export function subjectToken(id: string): string {
  return id.replace(/[.*> \t]/g, '_');
}

export const subjects = {
  /** galley -> all: ConfigSnapshot, on every accepted change. */
  configSnapshot: 'mesh.galley.snapshot',
  /** request ({}) -> ConfigSnapshot: late joiners and resync after reconnect. */
  configSnapshotGet: 'mesh.galley.snapshot.get',

  /** sidecar -> pilot, request: ProxyAnnouncement -> AnnounceReply. Sent at start, after every
   *  reconnect, and when pilot asks for a resync. */
  proxyAnnounce: 'mesh.pilot.announce',
  /** sidecar -> pilot: ProxyAnnouncement, periodically; a missed run of these expires the proxy. */
  proxyHeartbeat: 'mesh.pilot.heartbeat',
  /** sidecar -> pilot: ProxyDeparture on clean shutdown. */
  proxyDepart: 'mesh.pilot.depart',
  /** pilot -> all sidecars: PilotHello; every sidecar announces itself again. */
  pilotHello: 'mesh.pilot.hello',
  /** pilot -> one sidecar: ConfigPush. */
  proxyConfig: (proxyId: string) => `mesh.proxy.${subjectToken(proxyId)}.config`,
  /** sidecar -> pilot: ConfigAck (ACK or NACK of a push, by version and nonce). */
  proxyAck: 'mesh.pilot.ack',

  /** sidecar -> citadel, request: CsrRequest -> CsrResponse. */
  certSign: 'mesh.citadel.sign',
  /** citadel -> all: TrustBundle, at start and whenever the roots change. */
  trustBundle: 'mesh.citadel.bundle',
  /** request ({}) -> TrustBundle. */
  trustBundleGet: 'mesh.citadel.bundle.get',

  /** sidecar -> mixer: ReportBatch, after responses, batched. */
  telemetryReport: 'mesh.mixer.report',
  /** sidecar -> mixer, request: CheckRequest -> CheckResponse. */
  policyCheck: 'mesh.mixer.check',
  /** mixer -> sidecars: PolicyChanged; the policy config changed, cached check answers are void. */
  policyChanged: 'mesh.mixer.policy.changed',
} as const;

// ---------- galley ----------

export interface ConfigSnapshot {
  /** Content hash of the resources: the same config gives the same version, across restarts. */
  version: string;
  /** When galley first published this version (ISO 8601). */
  publishedAt: string;
  resources: Resource[];
}

// ---------- pilot <-> proxies ----------

export interface WorkloadPort {
  name: string;
  /** The service port clients address (9080). */
  port: number;
  /** Where the app listens inside its network namespace (process mode: its own port). */
  targetPort: number;
  protocol: Protocol;
}

export interface ProxyAnnouncement {
  proxyId: string;
  kind: ProxyKind;
  workload: {
    /** `reviews-v2` */
    name: string;
    namespace: string;
    serviceAccount: string;
    /** At least `app` and `version`; gateways carry `istio: ingressgateway`. */
    labels: Record<string, string>;
    /** The service(s) this workload backs; empty for clients such as `sleep` and gateways. */
    services: string[];
    ports: WorkloadPort[];
  };
  /** Where peers reach this proxy's mTLS inbound listener. */
  inbound: { address: string; port: number };
  /** Where this proxy's explicit-mode outbound listener is (loopback). */
  outbound?: { address: string; port: number };
  /** Loopback admin listener (config_dump, stats). */
  admin?: { address: string; port: number };
  /** Whether pilot should add this workload to the registry (process mode) or leave it to a
   *  platform adapter such as Docker (compose mode). */
  register: boolean;
  /** The config version the proxy is serving, if any. */
  servingVersion?: string;
  startedAt: string;
  /** Set by pilot (never trusted from the body): the announcement arrived on the proxy's
   *  scoped subjects (proxy-bus.ts), so its config goes to proxyScopedConfigSubject. */
  busScoped?: boolean;
}

export interface AnnounceReply {
  ok: boolean;
  error?: string;
}

export interface ProxyDeparture {
  proxyId: string;
}

export interface PilotHello {
  /** A new pilot instance id: sidecars re-announce when they see it. */
  instance: string;
}

export interface ConfigPush {
  proxyId: string;
  /** Content hash of `config`: equal versions mean equal config. */
  version: string;
  /** Unique per push, echoed in the ACK. */
  nonce: string;
  sentAt: string;
  config: ProxyConfig;
}

export interface ConfigAck {
  proxyId: string;
  version: string;
  nonce: string;
  /** false: NACK; the proxy keeps serving its previous config. */
  ok: boolean;
  error?: string;
}

// ---------- citadel ----------

export interface CsrRequest {
  proxyId: string;
  /** PKCS#10, PEM. The private key never leaves the workload. */
  csrPem: string;
  /** The identity the workload asks for; citadel verifies the requester is entitled to it. */
  namespace: string;
  serviceAccount: string;
  /** Attestation material: a per-workload bootstrap token in process mode. */
  token?: string;
  ttlSeconds?: number;
}

export type CsrResponse =
  | {
      ok: true;
      /** Leaf first, then intermediates, PEM. */
      certChainPem: string;
      /** Trust bundle: every root currently trusted, PEM. */
      rootsPem: string;
      serial: string;
      notBefore: string;
      notAfter: string;
    }
  | { ok: false; code: string; message: string };

export interface TrustBundle {
  version: string;
  rootsPem: string;
}

// ---------- mixer ----------

export interface PeerInfo {
  workload: string;
  namespace: string;
  app: string;
  version: string;
  /** SPIFFE id, empty when not authenticated. */
  principal: string;
  /** All workload labels (policy rules read `source.labels["istio"]`); app/version when absent. */
  labels?: Record<string, string>;
}

export type ResponseFlag = 'UH' | 'UF' | 'UO' | 'NR' | 'URX' | 'UT' | 'UC' | 'DC' | 'DI' | 'FI' | 'RL' | 'UAEX' | '-';

export interface ReportRecord {
  reporter: 'source' | 'destination';
  source: PeerInfo;
  destination: PeerInfo & {
    /** `reviews.default.svc.cluster.local` */
    service: string;
    serviceName: string;
    serviceNamespace: string;
  };
  protocol: 'http' | 'tcp' | 'grpc';
  /** TCP only: `opened` when a connection is accepted (bytes 0), `closed` when it ends
   *  (requestBytes = received from the client, responseBytes = sent to it, durationMs =
   *  connection lifetime). Mixer derives istio_tcp_* from these; responseCode is 0. */
  tcpEvent?: 'opened' | 'closed';
  method?: string;
  path?: string;
  responseCode: number;
  /** Envoy response flags joined by `,`, `-` when none. */
  responseFlags: string;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  connectionSecurityPolicy: 'mutual_tls' | 'none' | 'unknown';
  requestId?: string;
  /** ms since epoch */
  timestamp: number;
  /** Trace context when the request carried one (B3 or traceparent), for span assembly. */
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
}

export interface ReportBatch {
  proxyId: string;
  records: ReportRecord[];
  /** Records this proxy dropped since its last batch because its buffer was full. */
  dropped: number;
  /** This proxy's policy check cache since its last batch (mixer exposes the sums). */
  checkCache?: CheckCacheCounts;
}

export interface CheckCacheCounts {
  hits: number;
  misses: number;
  /** Answered by the fail policy because mixer could not be reached. */
  failOpen: number;
  failClosed: number;
}

/** A policy question a sidecar asks before forwarding (Istio 1.1 Mixer Check). */
export interface CheckRequest {
  proxyId: string;
  source: PeerInfo;
  destination: PeerInfo & { service: string; serviceName: string; serviceNamespace: string };
  request?: { method: string; path: string; host?: string; headers?: Record<string, string>; scheme?: string; time?: number };
  /** Who asks: the server-side proxy (`inbound`, Istio's default) or a client/gateway (`outbound`). */
  reporterKind?: 'inbound' | 'outbound';
  /** Peer address as the asking proxy saw it. */
  sourceIp?: string;
  destinationPort?: number;
  connection?: { mtls: boolean; requestedServerName?: string };
  protocol?: 'http' | 'tcp' | 'grpc';
}

/** Mixer's answer; the sidecar may reuse it for validDurationMs or validUseCount uses, whichever ends first. */
export interface CheckResponse {
  allowed: boolean;
  /** Stable code when denied (`PERMISSION_DENIED`, `RESOURCE_EXHAUSTED`). */
  code?: string;
  message?: string;
  validDurationMs: number;
  validUseCount: number;
  /** The rule that decided, if any. */
  rule?: string;
  /** HTTP status the proxy answers a denial with (403 PERMISSION_DENIED, 429 RESOURCE_EXHAUSTED...). */
  httpStatus?: number;
  /** The attributes this decision depended on (`destination.labels[app]`, `source.principal`):
   *  the answer holds for any request with the same values for these, so the sidecar caches it
   *  under them (Istio's referenced attributes). Absent: the answer is not cacheable. */
  referencedAttributes?: string[];
  /** Mixer's policy config version; a new one voids cached answers. */
  configVersion?: string;
}

export interface PolicyChanged {
  configVersion: string;
}
