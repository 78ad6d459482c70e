// Upstream connection pools: keep-alive agents (without one, http-proxy opens a connection per
// request). mTLS clusters get an https.Agent carrying the workload cert and the trust roots,
// and a checkServerIdentity that accepts only the SPIFFE ids the cluster allows (SPIFFE certs
// have no DNS SAN). Clusters with equal TLS settings share a pool. A new identity or a
// changed cluster builds new agents; old ones drain (in-flight requests finish, idle
// sockets close).

import http from 'node:http';
import https from 'node:https';
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { CompiledCluster } from './compile.js';
import { sanUris, type TlsIdentity } from './tls-identity.js';

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

  /** After a push: pools no cluster uses any more drain. */
  retain(poolKeys: Set<string>): void {
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
    for (const p of this.pools.values()) p.agent.destroy();
    this.pools.clear();
    this.plain.destroy();
  }
}
