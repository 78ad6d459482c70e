// The proxies pilot knows: who announced, when each last heartbeated, and who left or
// went silent. Pilot pushes config to these; the announce registry reads workloads from them.
import type { ProxyAnnouncement } from '#api';

export interface ProxyRecord {
  announcement: ProxyAnnouncement;
  firstSeenAt: number;
  lastSeenAt: number;
}

export type ProxyChange =
  | { type: 'added' | 'updated'; proxyId: string; record: ProxyRecord }
  | { type: 'removed'; proxyId: string; record: ProxyRecord; reason: 'departed' | 'expired' };

/** Checks the shape of an announcement off the wire; returns why it is unusable, or undefined. */
export function announcementProblem(a: unknown): string | undefined {
  if (!a || typeof a !== 'object') return 'announcement is not an object';
  const x = a as Partial<ProxyAnnouncement>;
  if (typeof x.proxyId !== 'string' || x.proxyId === '') return 'proxyId missing';
  if (x.kind !== 'sidecar' && x.kind !== 'gateway') return `proxy ${x.proxyId}: kind must be sidecar or gateway`;
  const w = x.workload;
  if (!w || typeof w !== 'object') return `proxy ${x.proxyId}: workload missing`;
  if (typeof w.name !== 'string' || !w.name) return `proxy ${x.proxyId}: workload.name missing`;
  if (typeof w.namespace !== 'string' || !w.namespace) return `proxy ${x.proxyId}: workload.namespace missing`;
  if (typeof w.serviceAccount !== 'string') return `proxy ${x.proxyId}: workload.serviceAccount missing`;
  if (!w.labels || typeof w.labels !== 'object') return `proxy ${x.proxyId}: workload.labels missing`;
  if (!Array.isArray(w.services) || w.services.some((s) => typeof s !== 'string')) return `proxy ${x.proxyId}: workload.services must be a list of names`;
  if (!Array.isArray(w.ports)) return `proxy ${x.proxyId}: workload.ports must be a list`;
  for (const p of w.ports) {
    if (!p || typeof p.port !== 'number' || typeof p.targetPort !== 'number' || typeof p.name !== 'string') {
      return `proxy ${x.proxyId}: workload.ports entries need name, port and targetPort`;
    }
  }
  if (!x.inbound || typeof x.inbound.address !== 'string' || typeof x.inbound.port !== 'number') return `proxy ${x.proxyId}: inbound address and port missing`;
  if (typeof x.register !== 'boolean') return `proxy ${x.proxyId}: register must be true or false`;
  return undefined;
}

/** What about a proxy matters to config and the registry (not its serving version). */
function identityOf(a: ProxyAnnouncement): string {
  return JSON.stringify([a.kind, a.workload, a.inbound, a.outbound, a.admin, a.register, a.startedAt]);
}

export class ProxyRegistry {
  private readonly proxies = new Map<string, ProxyRecord>();
  private readonly listeners = new Set<(c: ProxyChange) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: { expiryMs: number; now?: () => number }) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  onChange(cb: (c: ProxyChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(c: ProxyChange): void {
    for (const fn of this.listeners) fn(c);
  }

  /** An announcement or heartbeat: adds the proxy, updates it, or just refreshes its lease. */
  upsert(a: ProxyAnnouncement): 'added' | 'updated' | 'unchanged' {
    const now = this.now();
    const have = this.proxies.get(a.proxyId);
    if (!have) {
      const record = { announcement: a, firstSeenAt: now, lastSeenAt: now };
      this.proxies.set(a.proxyId, record);
      this.emit({ type: 'added', proxyId: a.proxyId, record });
      return 'added';
    }
    const changed = identityOf(have.announcement) !== identityOf(a);
    have.announcement = a;
    have.lastSeenAt = now;
    if (!changed) return 'unchanged';
    this.emit({ type: 'updated', proxyId: a.proxyId, record: have });
    return 'updated';
  }

  remove(proxyId: string, reason: 'departed' | 'expired' = 'departed'): boolean {
    const record = this.proxies.get(proxyId);
    if (!record) return false;
    this.proxies.delete(proxyId);
    this.emit({ type: 'removed', proxyId, record, reason });
    return true;
  }

  /** Removes proxies silent for longer than the expiry; returns their ids. */
  expire(): string[] {
    const cutoff = this.now() - this.opts.expiryMs;
    const gone = [...this.proxies.values()].filter((r) => r.lastSeenAt < cutoff).map((r) => r.announcement.proxyId);
    for (const id of gone) this.remove(id, 'expired');
    return gone;
  }

  get(proxyId: string): ProxyRecord | undefined {
    return this.proxies.get(proxyId);
  }

  list(): ProxyRecord[] {
    return [...this.proxies.values()].sort((a, b) => a.announcement.proxyId.localeCompare(b.announcement.proxyId));
  }

  /** Checks for silent proxies a few times per expiry period. */
  startExpiry(): void {
    if (this.timer) return;
    const every = Math.max(50, Math.floor(this.opts.expiryMs / 3));
    this.timer = setInterval(() => this.expire(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** What config generation needs to know about a proxy. */
export type ProxyDescription = Pick<ProxyAnnouncement, 'proxyId' | 'kind' | 'workload' | 'inbound' | 'outbound'>;
