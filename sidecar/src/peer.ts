// Source workload metadata travelling with a request from the client sidecar to the server
// sidecar (Istio's metadata exchange, simplified): the inbound side trusts it only because it
// arrives over mTLS, and strips it before the app. Plus the XFCC header Envoy writes.

import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { PeerInfo } from '#api';
import { sanUris } from './tls-identity.js';

export const PEER_HEADER = 'x-mesh-peer';

/** `labels`: all workload labels, so policy rules on the server side can read `source.labels[...]`. */
export function encodePeerHeader(p: PeerInfo, labels?: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ workload: p.workload, namespace: p.namespace, app: p.app, version: p.version, ...(labels ? { labels } : {}) })).toString('base64');
}

function decodeLabels(v: unknown): Record<string, string> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (++n > 64) break;
    if (typeof x === 'string' && k.length < 256 && x.length < 256) out[k] = x;
  }
  return out;
}

export function decodePeerHeader(v: string | string[] | undefined): Omit<PeerInfo, 'principal'> | undefined {
  if (typeof v !== 'string' || v.length > 8192) return undefined;
  try {
    const o = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as Record<string, unknown>;
    const s = (x: unknown) => (typeof x === 'string' && x.length < 256 ? x : 'unknown');
    const labels = decodeLabels(o.labels);
    return { workload: s(o.workload), namespace: s(o.namespace), app: s(o.app), version: s(o.version), ...(labels ? { labels } : {}) };
  } catch {
    return undefined;
  }
}

export interface PeerConnection {
  /** SPIFFE id from the client certificate, '' if none. */
  principal: string;
  /** sha256 hex of the client certificate (DER). */
  hash: string;
}

const byConnection = new WeakMap<TLSSocket, PeerConnection>();

/** The authenticated peer of an mTLS connection, computed once per connection. */
export function peerOf(socket: TLSSocket): PeerConnection {
  let p = byConnection.get(socket);
  if (!p) {
    const cert = socket.getPeerCertificate();
    const raw = cert && 'raw' in cert ? cert.raw : undefined;
    p = {
      principal: sanUris(cert).find((u) => u.startsWith('spiffe://')) ?? '',
      hash: raw ? createHash('sha256').update(raw).digest('hex') : '',
    };
    byConnection.set(socket, p);
  }
  return p;
}

/** Envoy's X-Forwarded-Client-Cert as Istio configures it (By, Hash, Subject, URI). SPIFFE
 *  certificates have an empty subject, which Envoy writes as `Subject=""`. */
export function xfcc(by: string, peer: PeerConnection): string {
  return `By=${by};Hash=${peer.hash};Subject="";URI=${peer.principal}`;
}
