// Pilot on the bus: proxies announce, heartbeat, depart and ACK; galley's snapshots arrive;
// pilot asks galley for the snapshot at start and after every reconnect, and says hello so
// that every sidecar announces itself again (messages sent while away are lost).
// A proxy that logs in to the bus speaks on its scoped subjects (api/src/proxy-bus.ts), which
// NATS permissions give to that proxy alone: pilot takes such a message only when its body
// names the same proxy (and workload, namespace, service account) as its subject, and never
// lets a proxy id that arrived on one scope be taken over from another scope or a plain subject.
import {
  announcementScope, parseProxyScopedSubject, proxyConfigSubjectOf, proxyScopedPattern, subjects, subjectToken,
  type AnnounceReply, type Bus, type ConfigAck, type ConfigSnapshot, type Logger, type PilotHello, type ProxyAnnouncement, type ProxyBusVerb, type ProxyDeparture,
} from '#api';
import type { Subscription } from 'nats';
import type { ConfigStore } from './model/config-store.js';
import { announcementProblem, type ProxyRegistry } from './model/proxies.js';
import type { Pusher } from './push/pusher.js';

/** Where pusher's config for a proxy goes: pusher addresses the plain subject; a proxy that
 *  announced on its scoped subjects listens on its scoped config subject instead. */
export function configSubjectRouter(proxies: ProxyRegistry): (plain: string) => string {
  const scoped = new Map<string, string>();
  proxies.onChange((c) => {
    const plain = subjects.proxyConfig(c.proxyId);
    if (c.type !== 'removed' && c.record.announcement.busScoped) scoped.set(plain, proxyConfigSubjectOf(c.record.announcement));
    else scoped.delete(plain);
  });
  return (plain) => scoped.get(plain) ?? plain;
}

/** Why pilot ignored a proxy's message (the label of pilot_proxy_messages_refused). */
export type RefusalReason = 'subject-mismatch' | 'proxy-id-taken' | 'unscoped-for-scoped-proxy';

/** Checks a proxy's message against the subject it came on; returns why it is refused, or
 *  undefined. `claim` is what the body says (an announcement's whole scope, or just the proxy id
 *  of an ACK or a departure); `known` is the proxy pilot already has under that id. */
export function proxyMessageRefusal(
  subject: string,
  claim: { proxyId: string; scope?: { namespace: string; serviceAccount: string; workload: string } },
  known: ProxyAnnouncement | undefined,
): RefusalReason | undefined {
  const parsed = parseProxyScopedSubject(subject);
  if (!parsed) return known?.busScoped ? 'unscoped-for-scoped-proxy' : undefined;
  if (parsed.proxyToken !== subjectToken(claim.proxyId)) return 'subject-mismatch';
  const c = claim.scope;
  if (c && (parsed.namespace !== subjectToken(c.namespace) || parsed.serviceAccount !== subjectToken(c.serviceAccount) || parsed.workload !== subjectToken(c.workload))) {
    return 'subject-mismatch';
  }
  if (known) {
    const k = announcementScope(known);
    if (!known.busScoped || parsed.namespace !== subjectToken(k.namespace) || parsed.serviceAccount !== subjectToken(k.serviceAccount) || parsed.workload !== subjectToken(k.workload)) {
      return 'proxy-id-taken';
    }
  }
  return undefined;
}

export interface PilotBusDeps {
  bus: Bus;
  proxies: ProxyRegistry;
  pusher: Pusher;
  config: ConfigStore;
  log: Logger;
  /** This pilot's instance id, sent in PilotHello. */
  instance: string;
  snapshotRetry?: { initialMs: number; maxMs: number };
  /** Counts a refused proxy message (pilot_proxy_messages_refused). */
  refused?: (verb: ProxyBusVerb, reason: RefusalReason) => void;
}

export interface PilotBus {
  /** Resolves once galley answered (or the bus was detached). */
  fetchSnapshot(): Promise<void>;
  hello(): void;
  /** Proxy messages ignored because their subject does not prove their claim, by verb and reason. */
  readonly refusals: Record<string, number>;
  stop(): Promise<void>;
}

export async function attachPilotBus(deps: PilotBusDeps): Promise<PilotBus> {
  const { bus, proxies, pusher, config, log } = deps;
  const subs: Subscription[] = [];
  let stopped = false;
  let fetching: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const applySnapshot = (s: unknown, from: string) => {
    const r = config.set(s);
    if (r.result === 'refused') log.warn({ code: 'PILOT_BAD_SNAPSHOT', from }, `config snapshot refused, keeping the last good one: ${r.reason}`);
  };

  const refusals: Record<string, number> = {};
  const loggedRefusals = new Set<string>();
  /** Counts every refusal; logs each (verb, reason, subject) once, so a flood cannot fill the log. */
  const refuse = (verb: ProxyBusVerb, reason: RefusalReason, subject: string, proxyId: unknown): void => {
    const key = `${verb}/${reason}`;
    refusals[key] = (refusals[key] ?? 0) + 1;
    deps.refused?.(verb, reason);
    const once = `${key}/${subject}`;
    if (loggedRefusals.has(once) || loggedRefusals.size >= 1000) return;
    loggedRefusals.add(once);
    log.warn({ code: 'PILOT_PROXY_IMPERSONATION', verb, reason, subject, claimedProxyId: proxyId }, `ignored a ${verb} whose subject does not prove its sender (${reason}); further ones are counted, not logged`);
  };
  const scopedOrPlain = (verb: ProxyBusVerb, plain: string) => [plain, proxyScopedPattern(verb)];

  for (const subject of scopedOrPlain('announce', subjects.proxyAnnounce)) {
    subs.push(bus.subscribe<ProxyAnnouncement>(subject, (m) => {
      const problem = announcementProblem(m.data);
      if (problem) {
        log.warn({ code: 'PILOT_BAD_ANNOUNCEMENT' }, problem);
        m.respond({ ok: false, error: problem } satisfies AnnounceReply);
        return;
      }
      const refusal = proxyMessageRefusal(m.subject, { proxyId: m.data.proxyId, scope: { ...announcementScope(m.data) } }, proxies.get(m.data.proxyId)?.announcement);
      if (refusal) {
        refuse('announce', refusal, m.subject, m.data.proxyId);
        m.respond({ ok: false, error: `announcement refused: ${refusal}` } satisfies AnnounceReply);
        return;
      }
      const a: ProxyAnnouncement = { ...m.data, busScoped: m.subject !== subjects.proxyAnnounce };
      proxies.upsert(a);
      m.respond({ ok: true } satisfies AnnounceReply);
      pusher.announced(a);
    }));
  }

  for (const subject of scopedOrPlain('heartbeat', subjects.proxyHeartbeat)) {
    subs.push(bus.subscribe<ProxyAnnouncement>(subject, (m) => {
      const problem = announcementProblem(m.data);
      if (problem) {
        log.warn({ code: 'PILOT_BAD_HEARTBEAT' }, problem);
        return;
      }
      const have = proxies.get(m.data.proxyId);
      const refusal = proxyMessageRefusal(m.subject, { proxyId: m.data.proxyId, scope: announcementScope(m.data) }, have?.announcement);
      if (refusal) {
        refuse('heartbeat', refusal, m.subject, m.data.proxyId);
        return;
      }
      const a: ProxyAnnouncement = { ...m.data, busScoped: m.subject !== subjects.proxyHeartbeat };
      proxies.upsert(a);
      // A heartbeat from a proxy pilot does not know (pilot restarted, the announcement was
      // lost) counts as an announcement.
      if (!have) pusher.announced(a);
    }));
  }

  for (const subject of scopedOrPlain('depart', subjects.proxyDepart)) {
    subs.push(bus.subscribe<ProxyDeparture>(subject, (m) => {
      const proxyId = m.data?.proxyId;
      if (typeof proxyId !== 'string') return;
      const have = proxies.get(proxyId);
      if (!have) return;
      const refusal = proxyMessageRefusal(m.subject, { proxyId }, have.announcement);
      if (refusal) {
        refuse('depart', refusal, m.subject, proxyId);
        return;
      }
      proxies.remove(proxyId, 'departed');
    }));
  }

  for (const subject of scopedOrPlain('ack', subjects.proxyAck)) {
    subs.push(bus.subscribe<ConfigAck>(subject, (m) => {
      const proxyId = m.data?.proxyId;
      if (typeof proxyId !== 'string') return;
      const refusal = proxyMessageRefusal(m.subject, { proxyId }, proxies.get(proxyId)?.announcement);
      if (refusal) {
        refuse('ack', refusal, m.subject, proxyId);
        return;
      }
      pusher.ack(m.data);
    }));
  }

  subs.push(bus.subscribe<ConfigSnapshot>(subjects.configSnapshot, (m) => applySnapshot(m.data, 'publish')));

  await bus.flush();

  const fetchSnapshot = (): Promise<void> => {
    fetching ??= (async () => {
      let wait = deps.snapshotRetry?.initialMs ?? 250;
      const max = deps.snapshotRetry?.maxMs ?? 5000;
      while (!stopped) {
        try {
          const s = await bus.request<ConfigSnapshot>(subjects.configSnapshotGet, {}, 2000);
          applySnapshot(s, 'request');
          return;
        } catch (err) {
          log.debug({ err: (err as Error).message, retryInMs: wait }, 'galley did not answer the snapshot request');
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          t.unref();
          wake = () => { clearTimeout(t); r(); };
        });
        wake = undefined;
        wait = Math.min(wait * 2, max);
      }
    })().finally(() => { fetching = undefined; });
    return fetching;
  };

  const hello = () => {
    bus.publish(subjects.pilotHello, { instance: deps.instance } satisfies PilotHello);
  };

  bus.onReconnect(() => {
    if (stopped) return;
    void fetchSnapshot();
    hello();
  });

  return {
    fetchSnapshot,
    hello,
    refusals,
    async stop() {
      stopped = true;
      wake?.();
      for (const s of subs) s.unsubscribe();
      await fetching;
    },
  };
}
