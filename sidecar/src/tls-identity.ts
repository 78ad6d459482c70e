// What the data plane needs from the workload identity (sidecar/src/identity/ provides it
// through citadel; tests provide it from a test CA): key, chain, roots, and rotation events.

import type { PeerCertificate } from 'node:tls';

export interface TlsIdentity {
  keyPem: string;
  certChainPem: string;
  rootsPem: string;
  spiffeId: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface IdentitySource {
  current(): TlsIdentity | undefined;
  onChange(cb: (id: TlsIdentity) => void): void;
  status(): unknown;
}

/** URI SANs of a peer certificate (`subjectaltname: 'URI:spiffe://..., DNS:x'`). */
export function sanUris(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  const out: string[] = [];
  for (const part of san.split(', ')) if (part.startsWith('URI:')) out.push(part.slice(4));
  return out;
}

/** A fixed identity (tests, or a workload whose cert comes from files). */
export function staticIdentity(id: TlsIdentity): IdentitySource & { rotate(next: TlsIdentity): void } {
  let cur = id;
  const subs: ((id: TlsIdentity) => void)[] = [];
  return {
    current: () => cur,
    onChange: (cb) => { subs.push(cb); },
    status: () => ({ spiffeId: cur.spiffeId, serial: cur.serial, notBefore: cur.notBefore, notAfter: cur.notAfter }),
    rotate(next) {
      cur = next;
      for (const cb of subs) cb(next);
    },
  };
}
