// The push layer, istiod's DiscoveryServer in small: debounces changes to config, registry
// and proxies; builds one PushContext per push; generates each proxy's config, skips it
// when the version is unchanged, publishes it with a nonce, and records ACK/NACK.
import { randomBytes } from 'node:crypto';
import { subjects, type ConfigAck, type ConfigPush, type Logger, type ProxyAnnouncement, type ProxyConfig, type ProxySyncRow } from '#api';
import { generateProxyConfig } from '../generate/index.js';
import type { ConfigStore } from '../model/config-store.js';
import type { ProxyChange, ProxyRegistry } from '../model/proxies.js';
import { buildPushContext, type MeshOptions, type PushContext } from '../model/push-context.js';
import type { ServiceRegistry } from '../registry/service-registry.js';
import type { PilotMetrics } from '../metrics.js';
import { Debouncer } from './debounce.js';
import { recordAck, syncStatus, type ProxySyncState, type SyncStatus } from './sync-status.js';
import { jsonVersion } from './version.js';

export interface PusherDeps {
  proxies: ProxyRegistry;
  registry: ServiceRegistry;
  config: ConfigStore;
  /** Sends a ConfigPush already serialised as JSON (the text the version was hashed from). */
  publishJson(subject: string, json: string): void;
  log: Logger;
  metrics: PilotMetrics;
  debounce: { quietMs: number; maxMs: number };
  /** Mesh-wide options (meshConfig); default ALLOW_ANY. */
  mesh?: MeshOptions;
  now?: () => number;
}

export interface PushCounters {
  fullPushes: number;
  triggers: number;
  configsSent: number;
  skippedUnchanged: number;
  acks: number;
  nacks: number;
  generateErrors: number;
  lastFullPushAt?: string;
  lastFullPushMs?: number;
}

/** A row of /debug/syncz: the mesh API's view, with what pilot knows besides. */
export interface SyncEntry extends ProxySyncRow {
  namespace: string;
  kind: string;
  status: SyncStatus;
  nonce?: string;
  inbound: string;
  labels: Record<string, string>;
  register: boolean;
}

type PushOutcome = 'sent' | 'unchanged' | 'not-ready' | 'failed' | 'unknown-proxy';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const hostPort = (a: { address: string; port: number } | undefined) => (a ? `${a.address}:${a.port}` : undefined);

export class Pusher {
  private readonly states = new Map<string, ProxySyncState>();
  private readonly debouncer: Debouncer;
  private context: PushContext | undefined;
  private hadConfig = false;
  private readonly unsubscribe: (() => void)[] = [];
  readonly counters: PushCounters = { fullPushes: 0, triggers: 0, configsSent: 0, skippedUnchanged: 0, acks: 0, nacks: 0, generateErrors: 0 };

  constructor(private readonly deps: PusherDeps) {
    this.debouncer = new Debouncer(() => this.pushAll(), { ...deps.debounce, now: deps.now });
    this.unsubscribe.push(
      deps.registry.onChange(() => this.changed('registry')),
      deps.proxies.onChange((c) => this.onProxyChange(c)),
      deps.config.onChange((s) => {
        const first = !this.hadConfig;
        this.hadConfig = true;
        this.changed('config');
        this.deps.log.info({ version: s.version, resources: s.resources.length }, 'config snapshot received');
        // The first snapshot makes pilot ready: everyone waiting gets config now.
        if (first) this.debouncer.flush();
      }),
    );
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private changed(_reason: string): void {
    this.context = undefined;
    this.counters.triggers++;
    this.debouncer.trigger();
  }

  private onProxyChange(c: ProxyChange): void {
    if (c.type === 'removed') {
      this.states.delete(c.proxyId);
      this.deps.log.info({ proxy: c.proxyId, reason: c.reason }, 'proxy removed');
    } else if (c.type === 'added') {
      this.deps.log.info({ proxy: c.proxyId, kind: c.record.announcement.kind }, 'proxy connected');
    }
    this.deps.metrics.proxies.set(this.deps.proxies.list().length);
    // Registered workloads change the registry; the announce adapter reports that itself.
    if (c.type === 'updated') this.changed('proxy');
  }

  /** The current PushContext, built at most once per change. */
  pushContext(): PushContext {
    if (!this.context) {
      this.context = buildPushContext(this.deps.config.snapshot, this.deps.registry.snapshot(), this.deps.mesh);
      this.deps.metrics.services.set(this.context.services.size);
      for (const p of this.context.problems) this.deps.log.warn({ code: 'PILOT_RESOURCE_SKIPPED' }, p);
    }
    return this.context;
  }

  get pushPending(): boolean {
    return this.debouncer.pending;
  }

  /** A proxy announced (start, reconnect, answer to PilotHello): it gets config at once. */
  announced(a: ProxyAnnouncement): PushOutcome {
    return this.pushTo(a.proxyId, this.pushContext(), { servingVersion: a.servingVersion ?? '' });
  }

  /** Pushes to every proxy whose config changed. */
  pushAll(): void {
    if (!this.deps.config.snapshot) return;
    const started = this.now();
    const ctx = this.pushContext();
    let sent = 0;
    for (const rec of this.deps.proxies.list()) if (this.pushTo(rec.announcement.proxyId, ctx) === 'sent') sent++;
    this.counters.fullPushes++;
    this.counters.lastFullPushAt = new Date(started).toISOString();
    this.counters.lastFullPushMs = this.now() - started;
    if (sent) this.deps.log.debug({ sent, configVersion: ctx.configVersion }, 'push done');
  }

  /**
   * Generates and sends one proxy's config. Without `servingVersion` it skips when the version
   * equals what was last sent; with it (an announcement) it sends whenever the proxy serves
   * something else, since a restarted proxy has lost what it was sent.
   */
  pushTo(proxyId: string, ctx: PushContext, announce?: { servingVersion: string }): PushOutcome {
    const rec = this.deps.proxies.get(proxyId);
    if (!rec) return 'unknown-proxy';
    const state = this.states.get(proxyId) ?? {};
    this.states.set(proxyId, state);
    if (!this.deps.config.snapshot) return 'not-ready';
    let config: ProxyConfig;
    try {
      config = generateProxyConfig(ctx, rec.announcement);
    } catch (err) {
      // The proxy keeps its last config; the error is loud and counted.
      this.counters.generateErrors++;
      this.deps.metrics.generateErrors.inc();
      this.deps.log.error({ code: 'PILOT_GENERATE_FAILED', proxy: proxyId, err }, 'config generation failed; proxy keeps its last config');
      return 'failed';
    }
    const configJson = JSON.stringify(config);
    const version = jsonVersion(configJson);
    const now = this.now();
    if (announce) {
      if (announce.servingVersion === version) {
        // Already serving exactly this: nothing to send, and it is in sync.
        if (state.sent?.version !== version) state.sent = { version, nonce: '', at: now, config };
        state.acked = { version, nonce: state.sent.nonce, at: now };
        state.nack = undefined;
        this.counters.skippedUnchanged++;
        return 'unchanged';
      }
    } else if (state.sent?.version === version) {
      this.counters.skippedUnchanged++;
      this.deps.metrics.pushes.inc({ type: 'unchanged' });
      return 'unchanged';
    }
    // Supersedes any push still awaiting its ACK: only the newest matters.
    const nonce = randomBytes(6).toString('hex');
    state.sent = { version, nonce, at: now, config };
    // A ConfigPush, written around the config's JSON rather than serialising it a second time.
    const head: Omit<ConfigPush, 'config'> = { proxyId, version, nonce, sentAt: new Date(now).toISOString() };
    this.deps.publishJson(subjects.proxyConfig(proxyId), `${JSON.stringify(head).slice(0, -1)},"config":${configJson}}`);
    this.counters.configsSent++;
    this.deps.metrics.pushes.inc({ type: 'sent' });
    this.deps.log.debug({ proxy: proxyId, version, nonce }, 'config pushed');
    return 'sent';
  }

  ack(ack: ConfigAck): void {
    if (!ack || typeof ack.proxyId !== 'string' || typeof ack.version !== 'string') {
      this.deps.log.warn({ code: 'PILOT_BAD_ACK' }, 'ack without proxyId or version ignored');
      return;
    }
    const state = this.states.get(ack.proxyId);
    if (!state) {
      this.deps.log.debug({ proxy: ack.proxyId }, 'ack from an unknown proxy ignored');
      return;
    }
    const now = this.now();
    if (!recordAck(state, ack, now)) return;
    if (ack.ok) {
      this.counters.acks++;
      if (state.sent && ack.nonce === state.sent.nonce) this.deps.metrics.convergence.observe((now - state.sent.at) / 1000);
    } else {
      this.counters.nacks++;
      this.deps.metrics.rejects.inc();
      this.deps.log.warn({ code: 'PILOT_CONFIG_NACKED', proxy: ack.proxyId, version: ack.version, error: ack.error }, 'proxy rejected its config');
    }
  }

  state(proxyId: string): ProxySyncState | undefined {
    return this.states.get(proxyId);
  }

  syncz(): SyncEntry[] {
    return this.deps.proxies.list().map((rec) => {
      const a = rec.announcement;
      const s = this.states.get(a.proxyId) ?? {};
      const entry: SyncEntry = {
        proxy: a.proxyId,
        workload: a.workload.name,
        namespace: a.workload.namespace,
        kind: a.kind,
        status: syncStatus(s),
        version: s.sent?.version,
        ackedVersion: s.acked?.version,
        nonce: s.sent?.nonce,
        error: s.nack && s.sent && s.nack.version === s.sent.version ? s.nack.error : undefined,
        inbound: hostPort(a.inbound)!,
        outbound: hostPort(a.outbound),
        admin: hostPort(a.admin),
        lastPushAt: iso(s.sent?.at),
        lastAckAt: iso(s.acked?.at),
        labels: a.workload.labels,
        register: a.register,
      };
      return entry;
    });
  }

  stop(): void {
    this.debouncer.cancel();
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
