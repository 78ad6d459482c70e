// Upstream connection pools: keep-alive agents (without one, http-proxy opens a connection per
// request). mTLS clusters get an https.Agent carrying the workload cert and the trust roots,
// and a checkServerIdentity that accepts only the SPIFFE ids the cluster allows (SPIFFE certs
// have no DNS SAN). Clusters with equal TLS settings share a pool. A new identity or a
// changed cluster builds new agents; old ones drain (in-flight requests finish, idle
// sockets close).

//
// DestinationRule tls SIMPLE and MUTUAL (TLS origination, e.g. to a ServiceEntry host): the app
// speaks plain HTTP to the sidecar, which opens TLS to the upstream with the rule's CA, client
// certificate and key (files, read when the cluster's config arrives), SNI and allowed SANs.
// These pools are plain http.Agents whose connections are TLS sockets, so the forwarder sends
// HTTP/1.1 over them unchanged and strips mesh-internal headers as for any non-mesh upstream.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls, { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { ClusterTls } from '#api';
import type { CompiledCluster } from './compile.js';
import { sanUris, type TlsIdentity } from './tls-identity.js';

export class OriginationConfigError extends Error {
  readonly code = 'ERR_MESH_TLS_ORIGINATION';
}

/** The DNS names and URIs a certificate names (subjectAltName; the CN when it has none). */
function certNames(cert: PeerCertificate): string[] {
  const alt = cert.subjectaltname;
  if (!alt) return cert.subject?.CN ? [String(cert.subject.CN)] : [];
  return alt.split(/,\s*/).map((e) => e.replace(/^(DNS|URI|IP Address):/, '')).filter(Boolean);
}

/** Server identity for origination: one of the rule's subjectAltNames when it lists any (as
 *  Envoy's match_subject_alt_names), else the usual hostname check against the SNI name. */
export function checkOriginated(t: Pick<ClusterTls, 'subjectAltNames'>, hostname: string) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    if (t.subjectAltNames?.length) {
      const names = certNames(cert);
      if (names.some((n) => t.subjectAltNames!.includes(n))) return undefined;
      return new SanMismatchError(names, new Set(t.subjectAltNames));
    }
    return tls.checkServerIdentity(hostname, cert);
  };
}

function readPem(what: string, file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new OriginationConfigError(`${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** An http.Agent whose connections are TLS: origination for SIMPLE and MUTUAL clusters. */
export function originationAgent(t: ClusterTls, serviceHost: string, opts: { maxFreeSockets: number }): http.Agent {
  const ca = readPem('caCertificates', t.caCertificates);
  const cert = t.mode === 'MUTUAL' ? readPem('clientCertificate', t.clientCertificate) : undefined;
  const key = t.mode === 'MUTUAL' ? readPem('privateKey', t.privateKey) : undefined;
  if (t.mode === 'MUTUAL' && (!cert || !key)) throw new OriginationConfigError('MUTUAL needs clientCertificate and privateKey');
  const secureContext = createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), minVersion: 'TLSv1.2' });
  const servername = t.sni ?? serviceHost;
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: opts.maxFreeSockets, scheduling: 'lifo' });
  const check = checkOriginated(t, servername);
  (agent as unknown as { createConnection: (o: { host?: string; port?: number }, cb: (err: Error | null, s?: Socket) => void) => Socket }).createConnection = (o) =>
    tls.connect({ host: o.host, port: o.port, secureContext, servername, checkServerIdentity: check });
  return agent;
}

function originationKey(t: ClusterTls, serviceHost: string): string {
  return JSON.stringify([t.mode, t.sni ?? serviceHost, t.subjectAltNames ?? [], t.caCertificates ?? '', t.clientCertificate ?? '', t.privateKey ?? '']);
}

export class SanMismatchError extends Error {
  readonly code = 'ERR_MESH_SAN_MISMATCH';
  constructor(presented: string[], allowed: ReadonlySet<string>) {
    super(`upstream presented ${JSON.stringify(presented)}, expected one of ${JSON.stringify([...allowed])}`);
  }
}

export function checkSpiffe(allowed: ReadonlySet<string>) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    if (allowed.size === 0) return undefined;
    const uris = sanUris(cert);
    for (const u of uris) if (allowed.has(u)) return undefined;
    return new SanMismatchError(uris, allowed);
  };
}

function drain(agent: http.Agent): void {
  // Sockets in use close once their response ends; idle ones close now.
  (agent as unknown as { keepAlive: boolean }).keepAlive = false;
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
}

function countSockets(agent: http.Agent): { active: number; idle: number } {
  let active = 0;
  let idle = 0;
  for (const list of Object.values(agent.sockets)) active += list?.length ?? 0;
  for (const list of Object.values(agent.freeSockets)) idle += list?.length ?? 0;
  return { active, idle };
}

export interface AgentPoolOptions {
  /** Idle keep-alive sockets kept per upstream host. */
  maxFreeSockets?: number;
}

export class UpstreamAgents {
  private generation = 1;
  private identity: TlsIdentity | undefined;
  /** Parsed once per identity: without it Node re-parses key, chain and roots per connection. */
  private secureContext: SecureContext | undefined;
  private readonly pools = new Map<string, { agent: https.Agent; generation: number }>();
  /** SIMPLE/MUTUAL pools by TLS settings; built per config push (files re-read then). */
  private readonly originating = new Map<string, http.Agent>();
  /** Clusters whose origination settings are unusable (unreadable file): name -> why. */
  readonly originationErrors = new Map<string, string>();
  readonly plain: http.Agent;
  private readonly maxFreeSockets: number;

  constructor(opts: AgentPoolOptions = {}) {
    this.maxFreeSockets = opts.maxFreeSockets ?? 256;
    this.plain = new http.Agent({ keepAlive: true, maxFreeSockets: this.maxFreeSockets, scheduling: 'lifo' });
  }

  /** A new workload certificate or trust bundle: every mTLS pool is rebuilt on next use. */
  setIdentity(id: TlsIdentity): void {
    this.identity = id;
    this.secureContext = createSecureContext({ key: id.keyPem, cert: id.certChainPem, ca: id.rootsPem, minVersion: 'TLSv1.2' });
    this.generation++;
    for (const [key, p] of this.pools) {
      drain(p.agent);
      this.pools.delete(key);
    }
  }

  hasIdentity(): boolean {
    return this.identity !== undefined;
  }

  /** The agent for a cluster; cached on the compiled cluster so the hot path is two compares. */
  agentFor(c: CompiledCluster): http.Agent | undefined {
    if (c.def.tls.mode === 'SIMPLE' || c.def.tls.mode === 'MUTUAL') return this.originationFor(c);
    if (!c.mtls) return this.plain;
    if (c.agent && c.agentGeneration === this.generation) return c.agent;
    const secureContext = this.secureContext;
    if (!secureContext) return undefined;
    let p = this.pools.get(c.poolKey);
    if (!p || p.generation !== this.generation) {
      if (p) drain(p.agent);
      p = {
        agent: new https.Agent({
          keepAlive: true,
          maxFreeSockets: this.maxFreeSockets,
          scheduling: 'lifo',
          secureContext,
          // Empty disables SNI derived from the Host header; the mesh routes by certificate.
          servername: c.def.tls.sni ?? '',
          checkServerIdentity: checkSpiffe(c.allowedSans),
        }),
        generation: this.generation,
      };
      this.pools.set(c.poolKey, p);
    }
    c.agent = p.agent;
    c.agentGeneration = this.generation;
    return p.agent;
  }

  /** TLS origination: undefined (503, like a missing identity) when the files cannot be read. */
  private originationFor(c: CompiledCluster): http.Agent | undefined {
    if (c.agent && c.agentGeneration === -1) return c.agent;
    const host = c.def.service ?? '';
    const key = originationKey(c.def.tls, host);
    let agent = this.originating.get(key);
    if (!agent) {
      try {
        agent = originationAgent(c.def.tls, host, { maxFreeSockets: this.maxFreeSockets });
      } catch (err) {
        this.originationErrors.set(c.name, (err as Error).message);
        return undefined;
      }
      this.originationErrors.delete(c.name);
      this.originating.set(key, agent);
    }
    c.agent = agent;
    // -1: origination agents do not depend on the workload identity's generation.
    c.agentGeneration = -1;
    return agent;
  }

  /** After a push: pools no cluster uses any more drain. */
  retain(poolKeys: Set<string>): void {
    // Origination pools drain at every push (in-flight requests finish): the new clusters'
    // first use re-reads the rule's files, so a rotated client certificate is picked up.
    for (const agent of this.originating.values()) drain(agent);
    this.originating.clear();
    for (const [key, p] of this.pools) {
      if (!poolKeys.has(key)) {
        drain(p.agent);
        this.pools.delete(key);
      }
    }
  }

  stats(): { pools: number; plain: { active: number; idle: number }; mtls: { active: number; idle: number } } {
    const mtls = { active: 0, idle: 0 };
    for (const p of this.pools.values()) {
      const s = countSockets(p.agent);
      mtls.active += s.active;
      mtls.idle += s.idle;
    }
    return { pools: this.pools.size, plain: countSockets(this.plain), mtls };
  }

  close(): void {
    for (const a of this.originating.values()) a.destroy();
    for (const p of this.pools.values()) p.agent.destroy();
    this.pools.clear();
    this.plain.destroy();
  }
}
