// `meshctl proxy-config cluster|listener|route|endpoint|all <proxy>`: the config pilot sent a
// proxy, with istioctl's columns. Reads pilot's /debug/config_dump; the proxy may be named by
// its full id, its id without namespace, or its workload when that is unambiguous.

import type { Cluster, ClusterLoadAssignment, Listener, ProxyConfig, RouteConfiguration, StringMatcher } from '#api';
import { X509Certificate } from 'node:crypto';
import { parseClusterName } from '#api';
import { getJson } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';
import { fetchProxyStatus } from './proxy-status.js';

export type ConfigSection = 'cluster' | 'listener' | 'route' | 'endpoint' | 'all';

export async function resolveProxy(ep: Endpoints, name: string): Promise<string> {
  const list = await fetchProxyStatus(ep);
  const exact = list.find((p) => p.proxy === name || p.proxy === `${name}.default`);
  if (exact) return exact.proxy;
  const byWorkload = list.filter((p) => p.workload === name || p.proxy.startsWith(`${name}-`));
  if (byWorkload.length === 1) return byWorkload[0]!.proxy;
  if (byWorkload.length > 1) throw new Error(`${name} names ${byWorkload.length} proxies: ${byWorkload.map((p) => p.proxy).join(', ')}`);
  throw new Error(`no proxy named ${name}; \`meshctl proxy-status\` lists them`);
}

export async function fetchProxyConfig(ep: Endpoints, proxy: string): Promise<{ version?: string; config: ProxyConfig }> {
  const id = await resolveProxy(ep, proxy);
  const { status, body } = await getJson<{ version?: string; config?: ProxyConfig; message?: string }>('pilot', `${ep.pilot}/debug/config_dump?proxyID=${encodeURIComponent(id)}`);
  if (status !== 200 || !body.config) throw new Error(`pilot has no config for ${id}${body.message ? `: ${body.message}` : ''}`);
  return { version: body.version, config: body.config };
}

const matcher = (m: StringMatcher | undefined): string => {
  if (!m) return '/*';
  if ('exact' in m) return m.exact;
  if ('prefix' in m) return `${m.prefix}*`;
  return `~${m.regex}`;
};

export function clusterRows(clusters: Cluster[]): string[][] {
  return clusters.map((c) => {
    const n = parseClusterName(c.name);
    return [n?.hostname || c.service || c.name, String(n?.port ?? c.port ?? '-'), n?.subset || '-', n?.direction ?? '-', c.type, c.tls.mode];
  });
}

export function listenerRows(listeners: Listener[]): string[][] {
  return listeners.map((l) => ['0.0.0.0', String(l.port), l.kind === 'inbound' ? `mTLS ${l.mtlsMode ?? ''}`.trim() : l.protocol,
    l.routeConfig ? `Route: ${l.routeConfig}` : l.cluster ? `Cluster: ${l.cluster}` : l.kind === 'outbound' ? 'Route: by destination port' : '-']);
}

export function routeRows(routes: RouteConfiguration[]): string[][] {
  const rows: string[][] = [];
  for (const rc of routes) {
    for (const vh of rc.virtualHosts) {
      const domains = vh.domains.length > 2 ? `${vh.domains[0]} +${vh.domains.length - 1} more` : vh.domains.join(', ');
      for (const r of vh.routes) {
        const headers = (r.match.headers ?? []).map((h) => `${h.name}${h.invert ? '!' : ''}=${matcher(h.match)}`).join(' ');
        rows.push([rc.name, vh.name, domains, `${matcher(r.match.path)}${headers ? ` ${headers}` : ''}`, r.origin?.virtualService ?? '-']);
      }
    }
  }
  return rows;
}

export function endpointRows(assignments: ClusterLoadAssignment[]): string[][] {
  return assignments.flatMap((a) => a.endpoints.map((e) => [`${e.address}:${e.port}`, e.healthy ? 'HEALTHY' : 'UNHEALTHY', a.cluster]));
}

export function formatProxyConfig(section: ConfigSection, cfg: ProxyConfig, format: OutputFormat): string {
  const data = section === 'cluster' ? cfg.clusters : section === 'listener' ? cfg.listeners : section === 'route' ? cfg.routes : section === 'endpoint' ? cfg.endpoints : cfg;
  return render(format, data, () => {
    const parts: string[] = [];
    if (section === 'cluster' || section === 'all') parts.push(table(['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'TLS'], clusterRows(cfg.clusters)));
    if (section === 'listener' || section === 'all') parts.push(table(['ADDRESS', 'PORT', 'MATCH', 'DESTINATION'], listenerRows(cfg.listeners)));
    if (section === 'route' || section === 'all') parts.push(table(['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], routeRows(cfg.routes)));
    if (section === 'endpoint' || section === 'all') parts.push(table(['ENDPOINT', 'STATUS', 'CLUSTER'], endpointRows(cfg.endpoints)));
    return parts.join('\n');
  }, () => lines([
    // One name per line: what scripts grep for.
    ...(section === 'cluster' || section === 'all' ? cfg.clusters.map((c) => c.name) : []),
    ...(section === 'listener' || section === 'all' ? cfg.listeners.map((l) => `${l.name} ${l.port}`) : []),
    ...(section === 'route' || section === 'all' ? cfg.routes.map((r) => r.name) : []),
    ...(section === 'endpoint' || section === 'all' ? cfg.endpoints.flatMap((a) => a.endpoints.map((e) => `${e.address}:${e.port} ${a.cluster}`)) : []),
  ]));
}

// ---------- `meshctl proxy-config secret <proxy>` ----------
// istioctl's secret view: the workload certificate a proxy serves and the roots it trusts, read
// from the proxy's own admin (/config_dump: public chain and roots, never the key), with the
// chain checked here: each certificate signed by the next, the last by a trusted root, all in date,
// and the leaf carrying the SPIFFE id the proxy claims.

export interface ProxyIdentityView {
  spiffeId: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  rotatesAt?: string;
  certChainPem?: string;
  rootsPem?: string;
  lastError?: string;
}

export interface SecretRow {
  name: 'default' | 'ROOTCA';
  type: 'Cert Chain' | 'CA';
  status: 'ACTIVE' | 'EXPIRED' | 'NOT YET VALID' | 'MISSING';
  /** Chain valid (for ROOTCA: self-signed and in date). */
  valid: boolean;
  serial: string;
  notBefore: string;
  notAfter: string;
  subject: string;
  spiffeId?: string;
  problems: string[];
}

export interface SecretReport { proxy: string; rotatesAt?: string; secrets: SecretRow[] }

const pemBlocks = (pem: string | undefined): string[] => (pem ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** Workload certificates may have an empty subject (the identity is in the SAN). */
const subjectOf = (c: X509Certificate): string => (c.subject ?? '').replace(/\n/g, ', ') || '-';

function dateStatus(c: X509Certificate, now: Date): SecretRow['status'] {
  if (now.getTime() < Date.parse(c.validFrom)) return 'NOT YET VALID';
  if (now.getTime() > Date.parse(c.validTo)) return 'EXPIRED';
  return 'ACTIVE';
}

/** Pure: checks what a proxy's admin reports. */
export function checkSecret(proxy: string, id: ProxyIdentityView, now: Date = new Date()): SecretReport {
  const chain = pemBlocks(id.certChainPem).map((p) => new X509Certificate(p));
  const roots = pemBlocks(id.rootsPem).map((p) => new X509Certificate(p));
  const iso = (s: string) => new Date(s).toISOString();
  const secrets: SecretRow[] = [];
  const leaf = chain[0];
  if (!leaf) {
    secrets.push({ name: 'default', type: 'Cert Chain', status: 'MISSING', valid: false, serial: '-', notBefore: '-', notAfter: '-', subject: '-', spiffeId: id.spiffeId, problems: [id.lastError ?? 'the proxy holds no certificate'] });
  } else {
    const problems: string[] = [];
    chain.forEach((c, i) => {
      if (dateStatus(c, now) !== 'ACTIVE') problems.push(`certificate ${i} (${subjectOf(c)}) is ${dateStatus(c, now).toLowerCase()}`);
      const issuer = chain[i + 1];
      if (issuer) {
        if (!c.verify(issuer.publicKey)) problems.push(`certificate ${i} is not signed by certificate ${i + 1}`);
      } else if (!roots.some((r) => c.checkIssued(r) && c.verify(r.publicKey))) {
        problems.push(`certificate ${i} is not signed by any trusted root`);
      }
    });
    const uris = (leaf.subjectAltName ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
    if (!uris.includes(id.spiffeId)) problems.push(`leaf SAN ${uris.join(' ') || '(none)'} is not ${id.spiffeId}`);
    secrets.push({
      name: 'default', type: 'Cert Chain', status: dateStatus(leaf, now), valid: problems.length === 0, serial: leaf.serialNumber.toLowerCase(),
      notBefore: iso(leaf.validFrom), notAfter: iso(leaf.validTo), subject: subjectOf(leaf), spiffeId: uris[0] ?? id.spiffeId, problems,
    });
  }
  for (const r of roots) {
    const problems: string[] = [];
    if (!r.verify(r.publicKey)) problems.push('root is not self-signed');
    if (dateStatus(r, now) !== 'ACTIVE') problems.push(`root is ${dateStatus(r, now).toLowerCase()}`);
    secrets.push({ name: 'ROOTCA', type: 'CA', status: dateStatus(r, now), valid: problems.length === 0, serial: r.serialNumber.toLowerCase(), notBefore: iso(r.validFrom), notAfter: iso(r.validTo), subject: subjectOf(r), problems });
  }
  return { proxy, ...(id.rotatesAt ? { rotatesAt: id.rotatesAt } : {}), secrets };
}

export async function fetchProxySecret(ep: Endpoints, proxy: string, now: Date = new Date()): Promise<SecretReport> {
  const id = await resolveProxy(ep, proxy);
  const row = (await fetchProxyStatus(ep)).find((p) => p.proxy === id);
  if (!row?.admin) throw new Error(`pilot does not know where ${id}'s admin listens`);
  const { status, body } = await getJson<{ identity?: ProxyIdentityView }>(`${id} admin`, `http://${row.admin}/config_dump`);
  if (status !== 200 || !body.identity) throw new Error(`${id}'s admin answered ${status} without an identity`);
  return checkSecret(id, body.identity, now);
}

export function formatSecret(r: SecretReport, format: OutputFormat): string {
  return render(format, r, () => table(
    ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE', 'IDENTITY / SUBJECT'],
    r.secrets.map((s) => [s.name, s.type, s.status, String(s.valid), s.serial, s.notAfter, s.notBefore, s.spiffeId ?? s.subject]),
  ) + r.secrets.flatMap((s) => s.problems.map((p) => `${s.name}: ${p}\n`)).join(''), () => lines(r.secrets.map((s) => `${s.name} ${s.serial} ${s.valid ? 'valid' : 'invalid'}`)));
}
