// The running proxy's state: the config being served (swapped atomically as one compiled
// unit), endpoint counters carried across pushes, connection pools, telemetry, counters.
// Listeners read `current` per request; a push replaces it in one assignment.

import type { Logger } from 'pino';
import type { PeerInfo, ProxyConfig } from '#api';
import { newEndpointStats, type EndpointStats } from './balancer.js';
import { compileProxyConfig, type CompiledConfig, type CompiledRoute } from './compile.js';
import { UpstreamAgents } from './agents.js';
import { buildRouteChain } from './chain.js';
import type { Service } from './exchange.js';
import { createForwarder, type Forwarder } from './forward.js';
import { dispatchService } from './layers/dispatch.js';
import { encodePeerHeader } from './peer.js';
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
  private endpointStats = new Map<string, EndpointStats>();
  private readonly hooks: ApplyHooks[] = [];
  private self: PeerInfo;

  constructor(opts: DataPlaneOptions) {
    this.workload = opts.workload;
    this.identity = opts.identity;
    this.telemetry = opts.telemetry;
    this.log = opts.log;
    this.self = { ...opts.workload.peer };
    this.peerHeader = encodePeerHeader(this.self);
    const id = opts.identity.current();
    if (id) this.useIdentity(id);
    opts.identity.onChange((next) => this.useIdentity(next));
    this.forwarder = createForwarder({ agents: this.agents, log: opts.log });
    const chainDeps = {
      forward: this.forwarder.service,
      onRetry: () => { this.counters.retries++; },
      ...(opts.random ? { random: opts.random } : {}),
    };
    this.dispatch = dispatchService((route: CompiledRoute) => buildRouteChain(route, chainDeps));
  }

  /** This workload as telemetry names it (principal = the SPIFFE id of the current cert). */
  selfPeer(): PeerInfo {
    return this.self;
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
    let compiled: CompiledConfig;
    try {
      compiled = compileProxyConfig(config, version, { proxyId: this.workload.proxyId, statsFor });
      for (const h of this.hooks) await h.prepare?.(compiled);
    } catch (err) {
      this.counters.config.rejected++;
      this.status.lastRejected = { version, error: (err as Error).message, at: new Date().toISOString() };
      throw err;
    }
    this.current = compiled;
    this.endpointStats = next;
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
