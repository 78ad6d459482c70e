// Source workload metadata travelling with a request from the client sidecar to the server
// sidecar (Istio's metadata exchange, simplified): the inbound side trusts it only because it
// arrives over mTLS, and strips it before the app. Plus the XFCC header Envoy writes.

import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { PeerInfo } from '#api';
import { sanUris } from './tls-identity.js';

export const PEER_HEADER = 'x-mesh-peer';

export function encodePeerHeader(p: PeerInfo): string {
  return Buffer.from(JSON.stringify({ workload: p.workload, namespace: p.namespace, app: p.app, version: p.version })).toString('base64');
}

export function decodePeerHeader(v: string | string[] | undefined): Omit<PeerInfo, 'principal'> | undefined {
  if (typeof v !== 'string' || v.length > 2048) return undefined;
  try {
    const o = JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as Record<string, unknown>;
    const s = (x: unknown) => (typeof x === 'string' && x.length < 256 ? x : 'unknown');
    return { workload: s(o.workload), namespace: s(o.namespace), app: s(o.app), version: s(o.version) };
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

export function xfcc(by: string, peer: PeerConnection): string {
  return `By=${by};Hash=${peer.hash};URI=${peer.principal}`;
}
