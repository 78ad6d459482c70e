// Mixer's config comes from galley's snapshots (the only reader of the folder): the live
// subject, plus a request at start and after every reconnect (messages published while
// disconnected are lost), retried with back-off until galley answers.
import { subjects, type Bus, type ConfigSnapshot, type Logger } from '#api';

export interface ConfigSource {
  /** The latest snapshot version applied, if any. */
  version(): string | undefined;
  stop(): void;
}

export function followGalley(bus: Bus, apply: (s: ConfigSnapshot) => void, log: Logger, retry = { initialMs: 250, maxMs: 5000 }): ConfigSource {
  let current: string | undefined;
  let stopped = false;
  let fetching = false;
  const take = (s: ConfigSnapshot, via: string) => {
    if (!s || typeof s.version !== 'string' || !Array.isArray(s.resources)) {
      log.warn({ code: 'MIXER_BAD_SNAPSHOT', via }, 'ignored a config snapshot that is not one');
      return;
    }
    if (s.version === current) return;
    current = s.version;
    apply(s);
  };
  const sub = bus.subscribe<ConfigSnapshot>(subjects.configSnapshot, (m) => take(m.data, 'publish'));
  const fetch = async () => {
    if (fetching) return;
    fetching = true;
    let wait = retry.initialMs;
    try {
      while (!stopped) {
        try {
          take(await bus.request<ConfigSnapshot>(subjects.configSnapshotGet, {}, 2000), 'request');
          return;
        } catch (err) {
          log.debug({ err: (err as Error).message, retryInMs: wait }, 'galley did not answer the snapshot request');
        }
        await new Promise((r) => setTimeout(r, wait).unref());
        wait = Math.min(wait * 2, retry.maxMs);
      }
    } finally {
      fetching = false;
    }
  };
  void fetch();
  bus.onReconnect(() => { if (!stopped) void fetch(); });
  return {
    version: () => current,
    stop() { stopped = true; sub.unsubscribe(); },
  };
}
