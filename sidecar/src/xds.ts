// The config client (the sidecar's half of xDS over the bus). It subscribes to its config
// subject before announcing, so a push that answers the announcement cannot be missed;
// announces at start, after every bus reconnect and whenever pilot says hello; heartbeats;
// answers every push with an ACK or a NACK by version and nonce. A NACKed push, or pilot
// being away, leaves the last good config serving.

import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import {
  proxyScopedConfigSubject, proxyScopedSubject, subjects,
  type AnnounceReply, type ProxyBusScope, type ProxyBusVerb, type Bus, type ConfigAck, type ConfigPush, type PilotHello, type ProxyAnnouncement, type ProxyDeparture,
} from '#api';

export interface ConfigClientOptions {
  bus: Bus;
  proxyId: string;
  /** The current announcement (servingVersion included). */
  announcement: () => ProxyAnnouncement;
  servingVersion: () => string | undefined;
  /** Applies a push; throwing NACKs it. */
  apply: (push: ConfigPush) => Promise<void>;
  heartbeatMs: number;
  log: Logger;
  /** Retry of an unanswered announcement: first delay and cap (ms). */
  announceBackoff?: { initialMs: number; maxMs: number };
  /** Set when the proxy logged in to the bus: it speaks on its scoped subjects, which NATS
   *  permissions give to it alone (api/src/proxy-bus.ts); unset: the plain subjects. */
  scope?: ProxyBusScope;
}

export interface ConfigClientStatus {
  announced: boolean;
  lastAnnounceAt?: string;
  lastAnnounceError?: string;
  pilotInstance?: string;
  lastPush?: { version: string; nonce: string; at: string; ok: boolean; error?: string };
  pushes: number;
  acks: number;
  nacks: number;
}

export class ConfigClient {
  readonly status: ConfigClientStatus = { announced: false, pushes: 0, acks: 0, nacks: 0 };
  private readonly subs: Subscription[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private announceRound = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ConfigClientOptions) {}

  private subject(verb: ProxyBusVerb): string {
    if (this.opts.scope) return proxyScopedSubject(verb, this.opts.scope);
    return { announce: subjects.proxyAnnounce, heartbeat: subjects.proxyHeartbeat, depart: subjects.proxyDepart, ack: subjects.proxyAck }[verb];
  }

  async start(): Promise<void> {
    const { bus, proxyId } = this.opts;
    this.subs.push(bus.subscribe<ConfigPush>(this.opts.scope ? proxyScopedConfigSubject(this.opts.scope) : subjects.proxyConfig(proxyId), (m) => { this.enqueue(m.data); }));
    this.subs.push(bus.subscribe<PilotHello>(subjects.pilotHello, (m) => {
      this.status.pilotInstance = m.data?.instance;
      this.announce();
    }));
    bus.onReconnect(() => this.announce());
    // The server must know our subscriptions before pilot can answer the announcement.
    await bus.flush();
    this.heartbeat = setInterval(() => this.sendHeartbeat(), this.opts.heartbeatMs);
    this.heartbeat.unref();
    this.announce();
  }

  /** Announces until pilot answers; a newer round (reconnect, hello) supersedes an older one. */
  announce(): void {
    if (this.stopped) return;
    const round = ++this.announceRound;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const backoff = this.opts.announceBackoff ?? { initialMs: 250, maxMs: 5000 };
    let delay = backoff.initialMs;
    const attempt = async (): Promise<void> => {
      if (this.stopped || round !== this.announceRound) return;
      try {
        const reply = await this.opts.bus.request<AnnounceReply>(this.subject('announce'), this.opts.announcement(), 2000);
        if (!reply.ok) throw new Error(reply.error ?? 'pilot refused the announcement');
        this.status.announced = true;
        this.status.lastAnnounceAt = new Date().toISOString();
        delete this.status.lastAnnounceError;
        return;
      } catch (err) {
        // nats.js reports "no responders" as a bare `503`.
        const msg = (err as Error).message;
        this.status.lastAnnounceError = msg === '503' ? 'no pilot is answering on the bus' : msg;
        this.opts.log.debug({ err: (err as Error).message }, 'announcement not answered; retrying');
      }
      if (this.stopped || round !== this.announceRound) return;
      this.retryTimer = setTimeout(() => { void attempt(); }, delay);
      this.retryTimer.unref();
      delay = Math.min(delay * 2, backoff.maxMs);
    };
    void attempt();
  }

  private sendHeartbeat(): void {
    try {
      this.opts.bus.publish(this.subject('heartbeat'), this.opts.announcement());
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'heartbeat not sent');
    }
  }

  private enqueue(push: ConfigPush): void {
    this.queue = this.queue.then(() => this.handle(push)).catch((err) => this.opts.log.error({ err }, 'config push handling failed'));
  }

  private async handle(push: ConfigPush): Promise<void> {
    const { proxyId, log } = this.opts;
    this.status.pushes++;
    const version = typeof push?.version === 'string' ? push.version : '';
    const nonce = typeof push?.nonce === 'string' ? push.nonce : '';
    let ok = true;
    let error: string | undefined;
    if (!version || push.proxyId !== proxyId) {
      ok = false;
      error = !version ? 'push without a version' : `push addressed to ${JSON.stringify(push.proxyId)}`;
    } else if (version !== this.opts.servingVersion()) {
      try {
        await this.opts.apply(push);
        log.info({ version }, 'config applied');
      } catch (err) {
        ok = false;
        error = (err as Error).message;
        log.warn({ version, error }, 'config rejected (NACK); serving the previous config');
      }
    }
    if (ok) this.status.acks++;
    else this.status.nacks++;
    this.status.lastPush = { version, nonce, at: new Date().toISOString(), ok, ...(error ? { error } : {}) };
    const ack: ConfigAck = { proxyId, version, nonce, ok, ...(error ? { error } : {}) };
    try {
      this.opts.bus.publish(this.subject('ack'), ack);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'ACK not sent');
    }
  }

  /** Says goodbye to pilot (clean shutdown) and stops announcing. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const s of this.subs) s.unsubscribe();
    const departure: ProxyDeparture = { proxyId: this.opts.proxyId };
    try {
      this.opts.bus.publish(this.subject('depart'), departure);
      await this.opts.bus.flush();
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'departure not sent');
    }
  }
}
