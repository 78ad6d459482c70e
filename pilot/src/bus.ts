// Pilot on the bus: proxies announce, heartbeat, depart and ACK; galley's snapshots arrive;
// pilot asks galley for the snapshot at start and after every reconnect, and says hello so
// that every sidecar announces itself again (messages sent while away are lost).
import { subjects, type AnnounceReply, type Bus, type ConfigAck, type ConfigSnapshot, type Logger, type PilotHello, type ProxyAnnouncement, type ProxyDeparture } from '#api';
import type { Subscription } from 'nats';
import type { ConfigStore } from './model/config-store.js';
import { announcementProblem, type ProxyRegistry } from './model/proxies.js';
import type { Pusher } from './push/pusher.js';

export interface PilotBusDeps {
  bus: Bus;
  proxies: ProxyRegistry;
  pusher: Pusher;
  config: ConfigStore;
  log: Logger;
  /** This pilot's instance id, sent in PilotHello. */
  instance: string;
  snapshotRetry?: { initialMs: number; maxMs: number };
}

export interface PilotBus {
  /** Resolves once galley answered (or the bus was detached). */
  fetchSnapshot(): Promise<void>;
  hello(): void;
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

  subs.push(bus.subscribe<ProxyAnnouncement>(subjects.proxyAnnounce, (m) => {
    const problem = announcementProblem(m.data);
    if (problem) {
      log.warn({ code: 'PILOT_BAD_ANNOUNCEMENT' }, problem);
      m.respond({ ok: false, error: problem } satisfies AnnounceReply);
      return;
    }
    proxies.upsert(m.data);
    m.respond({ ok: true } satisfies AnnounceReply);
    pusher.announced(m.data);
  }));

  subs.push(bus.subscribe<ProxyAnnouncement>(subjects.proxyHeartbeat, (m) => {
    const problem = announcementProblem(m.data);
    if (problem) {
      log.warn({ code: 'PILOT_BAD_HEARTBEAT' }, problem);
      return;
    }
    const known = proxies.get(m.data.proxyId) !== undefined;
    proxies.upsert(m.data);
    // A heartbeat from a proxy pilot does not know (pilot restarted, the announcement was
    // lost) counts as an announcement.
    if (!known) pusher.announced(m.data);
  }));

  subs.push(bus.subscribe<ProxyDeparture>(subjects.proxyDepart, (m) => {
    if (typeof m.data?.proxyId === 'string') proxies.remove(m.data.proxyId, 'departed');
  }));

  subs.push(bus.subscribe<ConfigAck>(subjects.proxyAck, (m) => pusher.ack(m.data)));

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
    async stop() {
      stopped = true;
      wake?.();
      for (const s of subs) s.unsubscribe();
      await fetching;
    },
  };
}
