// One way to reach the bus: JSON messages over a NATS connection that never gives up
// reconnecting, and tells its owner when it is back so the owner can resync
// (messages published while disconnected are lost).

// Loaded in connectBus: the demo apps and the console import '#api' for settings and logs only,
// and the nats client's ~65 modules cost each of them ~80 ms CPU at start.
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';

export interface BusOptions {
  /** nats://host:port, comma-separated for a cluster. */
  servers: string;
  /** Connection name, shown by nats-server (`galley`, `sidecar reviews-v1-...`). */
  name: string;
  user?: string;
  pass?: string;
  /** Where replies to this connection's requests arrive. Default: natsInboxPrefix(user) when
   *  a user is set (so NATS permissions can give each user only its own inboxes), else _INBOX. */
  inboxPrefix?: string;
  log: Logger;
}

/** The reply-subject prefix of a NATS user: `_INBOX_<user>`; its permissions allow `<prefix>.>`. */
export function natsInboxPrefix(user: string): string {
  return `_INBOX_${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export interface BusMessage<T> {
  subject: string;
  data: T;
  /** Answers a request; a no-op for plain publishes. */
  respond(reply: unknown): void;
}

export interface Bus {
  readonly nc: NatsConnection;
  publish(subject: string, msg: unknown): void;
  request<R>(subject: string, msg: unknown, timeoutMs?: number): Promise<R>;
  subscribe<T>(subject: string, handler: (m: BusMessage<T>) => void | Promise<void>, opts?: { queue?: string }): Subscription;
  /** Called after every reconnect (not the first connect). */
  onReconnect(fn: () => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encode(msg: unknown): Uint8Array {
  return enc.encode(JSON.stringify(msg));
}

export function decode<T>(data: Uint8Array): T {
  return JSON.parse(dec.decode(data)) as T;
}

export async function connectBus(opts: BusOptions): Promise<Bus> {
  const { connect } = await import('nats');
  const nc = await connect({
    servers: opts.servers.split(',').map((s) => s.trim()).filter(Boolean),
    name: opts.name,
    user: opts.user,
    pass: opts.pass,
    inboxPrefix: opts.inboxPrefix ?? (opts.user ? natsInboxPrefix(opts.user) : undefined),
    // The client's defaults give up after ~20 s; a mesh component must outlive a bus restart.
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 250,
    pingInterval: 10_000,
  });
  const reconnectHandlers: (() => void)[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'reconnect') {
        opts.log.info({ server: s.data }, 'bus reconnected');
        for (const fn of reconnectHandlers) {
          try { fn(); } catch (err) { opts.log.error({ err }, 'reconnect handler failed'); }
        }
      } else if (s.type === 'disconnect') {
        opts.log.warn({ server: s.data }, 'bus disconnected');
      } else if (s.type === 'error') {
        opts.log.error({ err: s.data }, 'bus error');
      }
    }
  })();

  return {
    nc,
    publish(subject, msg) {
      nc.publish(subject, encode(msg));
    },
    async request<R>(subject: string, msg: unknown, timeoutMs = 2000): Promise<R> {
      const m = await nc.request(subject, encode(msg), { timeout: timeoutMs });
      return decode<R>(m.data);
    },
    subscribe<T>(subject: string, handler: (m: BusMessage<T>) => void | Promise<void>, subOpts?: { queue?: string }) {
      return nc.subscribe(subject, {
        queue: subOpts?.queue,
        callback: (err, m) => {
          if (err) {
            opts.log.error({ err, subject }, 'subscription error');
            return;
          }
          let data: T;
          try {
            data = decode<T>(m.data);
          } catch (e) {
            opts.log.warn({ subject, err: e }, 'dropped a message that is not JSON');
            return;
          }
          const respond = (reply: unknown) => { if (m.reply) m.respond(encode(reply)); };
          Promise.resolve()
            .then(() => handler({ subject: m.subject, data, respond }))
            .catch((e) => opts.log.error({ err: e, subject }, 'message handler failed'));
        },
      });
    },
    onReconnect(fn) {
      reconnectHandlers.push(fn);
    },
    flush() {
      return nc.flush();
    },
    async close() {
      await nc.drain().catch(() => nc.close());
    },
  };
}
