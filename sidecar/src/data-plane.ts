// The running proxy's state: the config being served (swapped atomically as one compiled
// unit), endpoint counters carried across pushes, connection pools, telemetry, counters.
// Listeners read `current` per request; a push replaces it in one assignment.

import type { Logger } from 'pino';
import type { ConnectionPoolConfig, PeerInfo, ProxyConfig } from '#api';
import { newEndpointStats, type EndpointStats } from './balancer.js';
import { compileProxyConfig, type CompiledConfig, type CompiledRoute } from './compile.js';
import { UpstreamAgents } from './agents.js';
import { buildRouteChain } from './chain.js';
import type { Service } from './exchange.js';
import { createForwarder, type Forwarder } from './forward.js';
import { dispatchService } from './layers/dispatch.js';
import { encodePeerHeader } from './peer.js';
import { ClusterPool } from './pool.js';
import type { PolicyClient } from './policy/check-client.js';
import { policyLayer } from './layers/policy.js';
import { newCounters, type ProxyCounters } from './stats.js';
import type { TelemetryReporter } from './telemetry.js';
import type { IdentitySource } from './tls-identity.js';
import type { WorkloadSpec } from './workload.js';

export interface ApplyHooks {
  /** Runs after compile, before the swap; throwing turns the push into a NACK (gateway binds). */
  prepare?: (next: CompiledConfig) => Promise<void>;
  /** Runs after the swap (close listeners the new config dropped). */
  commit?: (next: CompiledConfig) => void;
}

export interface DataPlaneOptions {
  workload: WorkloadSpec;
  identity: IdentitySource;
  telemetry: TelemetryReporter;
  log: Logger;
  random?: () => number;
}

export interface ConfigStatus {
  version?: string;
  appliedAt?: string;
  lastRejected?: { version: string; error: string; at: string };
}

export class DataPlane {
  current: CompiledConfig | undefined;
  readonly status: ConfigStatus = {};
  readonly counters: ProxyCounters = newCounters();
  readonly agents = new UpstreamAgents();
  readonly forwarder: Forwarder;
  /** Ends of the listener stacks: each exchange continues in its route's chain. */
  readonly dispatch: Service;
  readonly workload: WorkloadSpec;
  readonly identity: IdentitySource;
  readonly telemetry: TelemetryReporter;
  readonly log: Logger;
  /** Precomputed `x-mesh-peer` value for requests this proxy originates. */
  readonly peerHeader: string;
  /** Where this proxy's outbound listener is, once bound (jwksUri fetches go through it). */
  outboundAddress?: { host: string; port: number };
  /** Mixer policy checks (absent: no checks). Inbound always asks; routes ask client-side when
   *  `policyClientSide` is set (Istio asks from gateways, not from sidecars' outbound). */
  policy?: PolicyClient;
  policyClientSide = false;
  private endpointStats = new Map<string, EndpointStats>();
  /** Circuit-breaker pools by cluster name: counts in flight survive pushes. */
  readonly pools = new Map<string, ClusterPool>();
  private readonly hooks: ApplyHooks[] = [];
  private self: PeerInfo;

  constructor(opts: DataPlaneOptions) {
    this.workload = opts.workload;
    this.identity = opts.identity;
    this.telemetry = opts.telemetry;
    this.log = opts.log;
    this.self = { ...opts.workload.peer };
    this.peerHeader = encodePeerHeader(this.self, opts.workload.labels);
    const id = opts.identity.current();
    if (id) this.useIdentity(id);
    opts.identity.onChange((next) => this.useIdentity(next));
    this.forwarder = createForwarder({ agents: this.agents, log: opts.log });
    const chainDeps = {
      forward: this.forwarder.service,
      shadow: this.forwarder.shadow,
      // Read when a route's chain is first built, which is after start-up wiring set policy.
      policy: () => (this.policy && this.policyClientSide ? policyLayer({ client: this.policy, side: 'outbound', proxyId: this.workload.proxyId, self: () => this.selfPeer() }) : undefined),
      onRetry: () => { this.counters.retries++; },
      ...(opts.random ? { random: opts.random } : {}),
    };
    this.dispatch = dispatchService((route: CompiledRoute) => buildRouteChain(route, chainDeps));
  }

  /** This workload as telemetry names it (principal = the SPIFFE id of the current cert). */
  selfPeer(): PeerInfo {
    return this.self;
  }

  /** The pool for a cluster of a config being compiled; new limits apply only once it is
   *  swapped in (a NACKed config changes nothing). */
  private poolFor(name: string, cp: ConnectionPoolConfig, staged: Map<string, [ClusterPool, ConnectionPoolConfig]>): ClusterPool {
    const pool = this.pools.get(name) ?? new ClusterPool(cp);
    staged.set(name, [pool, cp]);
    return pool;
  }

  addApplyHooks(h: ApplyHooks): void {
    this.hooks.push(h);
  }

  private useIdentity(id: NonNullable<ReturnType<IdentitySource['current']>>): void {
    this.self = { ...this.self, principal: id.spiffeId };
    this.agents.setIdentity(id);
  }

  /** Compiles and swaps in a pushed config; throws (a NACK) leaving the current one serving. */
  async apply(config: ProxyConfig, version: string): Promise<CompiledConfig> {
    const next = new Map<string, EndpointStats>();
    const statsFor = (key: string) => {
      const s = next.get(key) ?? this.endpointStats.get(key) ?? newEndpointStats();
      next.set(key, s);
      return s;
    };
    const staged = new Map<string, [ClusterPool, ConnectionPoolConfig]>();
    let compiled: CompiledConfig;
    try {
      compiled = compileProxyConfig(config, version, { proxyId: this.workload.proxyId, statsFor, poolFor: (name, cp) => this.poolFor(name, cp, staged) });
      for (const h of this.hooks) await h.prepare?.(compiled);
    } catch (err) {
      this.counters.config.rejected++;
      this.status.lastRejected = { version, error: (err as Error).message, at: new Date().toISOString() };
      throw err;
    }
    this.current = compiled;
    this.endpointStats = next;
    this.pools.clear();
    for (const [name, [pool, cp]] of staged) {
      pool.update(cp);
      this.pools.set(name, pool);
    }
    this.status.version = version;
    this.status.appliedAt = new Date().toISOString();
    this.counters.config.applied++;
    for (const h of this.hooks) {
      try { h.commit?.(compiled); } catch (err) { this.log.warn({ err }, 'post-apply hook failed'); }
    }
    this.agents.retain(new Set([...compiled.clusters.values()].filter((c) => c.mtls).map((c) => c.poolKey)));
    return compiled;
  }

  close(): void {
    this.forwarder.close();
    this.agents.close();
  }
}
