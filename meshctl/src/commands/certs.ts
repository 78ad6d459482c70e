// `meshctl certs [proxy]`: the workload certificate each proxy holds, from citadel's inventory:
// identity, issuer, expiry and when the sidecar rotates it (at half its lifetime, +-10 % jitter).

import { getJson } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';

interface IssuedCert { serial: string; spiffeId: string; proxyId: string; notBefore: string; notAfter: string; issuedAt: string }

export interface CertRow {
  proxy: string;
  identity: string;
  serial: string;
  issuer: string;
  notAfter: string;
  expiresInSeconds: number;
  rotatesInSeconds: number;
  /** Certificates citadel still remembers issuing to this proxy (rotations included). */
  issued: number;
}

export interface CertsReport { trustDomain?: string; root?: string; certs: CertRow[] }

export async function fetchCerts(ep: Endpoints, now: Date = new Date()): Promise<CertsReport> {
  const [{ body: inv }, { body: ca }] = await Promise.all([
    getJson<{ certs?: IssuedCert[] }>('citadel', `${ep.citadel}/certs`),
    getJson<{ trustDomain?: string; signingRoot?: { subject: string } }>('citadel', `${ep.citadel}/debug/ca`),
  ]);
  return buildCerts(inv.certs ?? [], ca, now);
}

export function buildCerts(certs: IssuedCert[], ca: { trustDomain?: string; signingRoot?: { subject: string } }, now: Date): CertsReport {
  const latest = new Map<string, CertRow>();
  // citadel lists newest first: the first one per proxy is the one it holds.
  for (const c of certs) {
    const seen = latest.get(c.proxyId);
    if (seen) { seen.issued++; continue; }
    const nb = Date.parse(c.notBefore), na = Date.parse(c.notAfter);
    latest.set(c.proxyId, {
      proxy: c.proxyId, identity: c.spiffeId, serial: c.serial, issuer: ca.signingRoot?.subject ?? '-', notAfter: c.notAfter,
      expiresInSeconds: Math.round((na - now.getTime()) / 1000),
      rotatesInSeconds: Math.round((nb + (na - nb) / 2 - now.getTime()) / 1000),
      issued: 1,
    });
  }
  return {
    ...(ca.trustDomain ? { trustDomain: ca.trustDomain } : {}),
    ...(ca.signingRoot ? { root: ca.signingRoot.subject } : {}),
    certs: [...latest.values()].sort((a, b) => a.proxy.localeCompare(b.proxy)),
  };
}

export function duration(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return sign + (d ? `${d}d${h}h` : h ? `${h}h${m}m` : m ? `${m}m${s}s` : `${s}s`);
}

export function formatCerts(r: CertsReport, format: OutputFormat, proxy?: string): string {
  const rows = proxy ? r.certs.filter((c) => c.proxy === proxy || c.proxy.startsWith(`${proxy}-`) || c.proxy.startsWith(proxy)) : r.certs;
  const data = { ...r, certs: rows };
  return render(format, data, () => table(
    ['PROXY', 'IDENTITY', 'ISSUER', 'SERIAL', 'NOT AFTER', 'EXPIRES IN', 'ROTATES IN'],
    rows.map((c) => [c.proxy, c.identity, c.issuer, c.serial, c.notAfter, duration(c.expiresInSeconds), c.rotatesInSeconds > 0 ? duration(c.rotatesInSeconds) : 'due']),
  ), () => lines(rows.map((c) => `${c.proxy} ${c.identity} ${duration(c.expiresInSeconds)}`)));
}
