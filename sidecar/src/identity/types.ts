// The workload side of identity: what the sidecar gets from its IdentityManager.

import type { Bus, Logger } from '#api';
import type { KeyAlgorithm } from './csr.js';

/** A certificate citadel issued for this workload, with the key that never left it. */
export interface WorkloadIdentity {
  /** PKCS#8 PEM. Kept in memory only: never logged, never written to disk. */
  keyPem: string;
  /** Leaf first, then intermediates. */
  certChainPem: string;
  /** Every root currently trusted by the mesh (the trust bundle). */
  rootsPem: string;
  spiffeId: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** JSON-friendly view for the admin endpoint and meshctl (`proxy-config secret`). */
export interface IdentityStatus {
  spiffeId: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  /** When the next renewal is planned (ISO 8601). */
  rotatesAt?: string;
  /** Version of the trust bundle last seen from citadel. */
  trustBundleVersion?: string;
  lastError?: string;
  /** When the current certificate arrived (ISO 8601). */
  lastRenewedAt?: string;
  /** Failed attempts since the last certificate arrived (0 when healthy). */
  renewalFailures?: number;
  /** The backoff delays of the current run of failures, oldest first (the last 20). */
  retryDelaysMs?: number[];
  /** True once the current certificate is past notAfter: peers refuse it (fail closed). */
  expired?: boolean;
  /** The certificate chain (leaf first) and trusted roots, PEM: public, so `meshctl proxy-config
   *  secret` can check the chain. Never the key. */
  certChainPem?: string;
  rootsPem?: string;
}

export interface IdentityManager {
  /** Resolves with the first certificate; retries with backoff until citadel answers. */
  start(): Promise<WorkloadIdentity>;
  current(): WorkloadIdentity | undefined;
  /** Fires on rotation (new key and cert) and when the trust bundle changes. */
  onChange(cb: (id: WorkloadIdentity) => void): void;
  status(): IdentityStatus;
  /** Stops timers and the trust-bundle subscription; a pending start() rejects. */
  stop(): void;
}

export interface IdentityManagerOptions {
  bus: Bus;
  proxyId: string;
  namespace: string;
  serviceAccount: string;
  /** Bootstrap token for citadel's `token` attestation (process mode). */
  token?: string;
  ttlSeconds: number;
  /** Workload key type (default ECDSA_P256). */
  keyAlgorithm?: KeyAlgorithm;
  /** Where to write cert-chain.pem and root-cert.pem for inspection (never the key). */
  certDir?: string;
  log: Logger;
  trustDomain?: string;
  /** Retry backoff when citadel is unreachable or refuses: first delay and cap (ms). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** How long one signing request may take on the bus. */
  requestTimeoutMs?: number;
}
