// The shapes the console reads from other components' HTTP APIs (their JSON contracts), kept
// to the fields it uses. Never imported from the components themselves: parts share only #api.

import type { RegistrySnapshot } from '#api';
import type { AnalysisMessage, EdgeView, EdgesView, ProxySyncRow, RecentRequestsView, RequestSpanView } from '#api';

/** pilot /debug/registryz */
export interface RegistryzBody extends RegistrySnapshot {
  registries?: { name: string; connected?: boolean; lastError?: string }[];
}

/** pilot /debug/syncz, one row per proxy. */
export type SyncRow = ProxySyncRow;

/** mixer /debug/edges */
export type { EdgeEnd } from '#api';
export type EdgeStat = EdgeView;
export type EdgesBody = EdgesView;

/** galley /status */
export type GalleyMessage = AnalysisMessage;
export interface GalleyStatusBody {
  version: string;
  publishedAt?: string;
  files: { file: string; state: string; resources?: string[]; servingLastGood?: boolean; messages?: GalleyMessage[]; updatedAt?: string }[];
  messages?: GalleyMessage[];
}

/** citadel /certs and /debug/ca */
export interface IssuedCert { serial: string; spiffeId: string; proxyId: string; notBefore: string; notAfter: string; issuedAt: string }
export interface CertsBody { kept?: number; issuedTotal?: number; certs: IssuedCert[] }
export interface CaBody {
  trustDomain?: string;
  attestation?: string;
  signingRoot?: { serial: string; subject: string; notBefore: string; notAfter: string; fingerprint256?: string };
}

/** mixer /debug/requests */
export type TraceSpan = RequestSpanView;
export type TraceBody = RecentRequestsView;
