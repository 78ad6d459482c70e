// The certificates view: each proxy's current certificate (identity, issuer, expiry) and when
// its sidecar will rotate it (at half its lifetime, +-10 % jitter, as the sidecar schedules).

import type { CaBody, CertsBody } from './inputs.js';

export interface CertView {
  proxy: string;
  identity: string;
  serial: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  lifetimeSeconds: number;
  expiresInSeconds: number;
  /** Estimated: the sidecar renews at 50 % of the lifetime; negative when overdue. */
  rotatesInSeconds: number;
  /** Certificates issued to this proxy that citadel still remembers (rotations). */
  issuedCount: number;
  state: 'valid' | 'rotation due' | 'expired';
}

export interface CertsView {
  trustDomain: string | null;
  root: { subject: string; serial: string; notAfter: string; fingerprint256?: string } | null;
  issuedTotal: number | null;
  certs: CertView[];
}

export const ROTATION_FRACTION = 0.5;

export function buildCertsView(certs: CertsBody | undefined, ca: CaBody | undefined, now: Date = new Date()): CertsView {
  const latest = new Map<string, { cert: CertsBody['certs'][number]; count: number }>();
  // citadel lists newest first: the first seen per proxy is its current certificate.
  for (const c of certs?.certs ?? []) {
    const seen = latest.get(c.proxyId);
    if (seen) seen.count++;
    else latest.set(c.proxyId, { cert: c, count: 1 });
  }
  const t = now.getTime();
  const issuer = ca?.signingRoot?.subject ?? 'mesh root';
  const rows: CertView[] = [...latest.values()].map(({ cert, count }) => {
    const nb = Date.parse(cert.notBefore);
    const na = Date.parse(cert.notAfter);
    const lifetime = Math.max(0, (na - nb) / 1000);
    const rotatesAt = nb + lifetime * 1000 * ROTATION_FRACTION;
    const expiresIn = Math.round((na - t) / 1000);
    const rotatesIn = Math.round((rotatesAt - t) / 1000);
    return {
      proxy: cert.proxyId,
      identity: cert.spiffeId,
      serial: cert.serial,
      issuer,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      lifetimeSeconds: Math.round(lifetime),
      expiresInSeconds: expiresIn,
      rotatesInSeconds: rotatesIn,
      issuedCount: count,
      state: expiresIn <= 0 ? 'expired' : rotatesIn <= 0 ? 'rotation due' : 'valid',
    };
  });
  rows.sort((a, b) => a.proxy.localeCompare(b.proxy));
  const r = ca?.signingRoot;
  return {
    trustDomain: ca?.trustDomain ?? null,
    root: r ? { subject: r.subject, serial: r.serial, notAfter: r.notAfter, fingerprint256: r.fingerprint256 } : null,
    issuedTotal: certs?.issuedTotal ?? null,
    certs: rows,
  };
}

/** `23h 59m`, `4m 10s`, `-3s`: for tables and the page. */
export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${sign}${d}d ${h}h`;
  if (h) return `${sign}${h}h ${m}m`;
  if (m) return `${sign}${m}m ${s}s`;
  return `${sign}${s}s`;
}
