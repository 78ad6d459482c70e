// A byte tunnel between two sockets (WebSocket after its 101, TCP streams): pipes both ways,
// counts bytes, and releases both sockets whichever side ends or fails. A side that ended is
// given HALF_CLOSE_GRACE_MS to close its own half before it is destroyed, so no socket is
// left open by a peer that never answers the FIN.

import type { Duplex } from 'node:stream';

export const HALF_CLOSE_GRACE_MS = 5000;

/** A socket we ended is destroyed if the peer never closes its side. */
export function destroyLater(s: Duplex, ms = HALF_CLOSE_GRACE_MS): void {
  if (s.destroyed) return;
  const t = setTimeout(() => s.destroy(), ms);
  t.unref();
  s.once('close', () => clearTimeout(t));
}

/** Ends a socket once its writes are flushed; destroys it if the peer never closes. */
export function endSoon(s: Duplex): void {
  if (s.destroyed) return;
  if (!s.writableEnded) s.end();
  destroyLater(s);
}

export interface TunnelBytes {
  /** From the downstream (client) side toward upstream. */
  up: number;
  /** From upstream toward the client. */
  down: number;
}

/**
 * Pipes `client` <-> `upstream`; `onClosed` runs once, after both sockets closed. Errors on
 * either side destroy it (and so, through its close, end the other).
 */
export function tunnel(client: Duplex, upstream: Duplex, bytes: TunnelBytes, onClosed: () => void): void {
  let open = 2;
  const closed = () => { if (--open === 0) onClosed(); };
  upstream.once('close', closed);
  client.once('close', closed);
  upstream.on('error', () => upstream.destroy());
  client.on('error', () => client.destroy());
  upstream.once('close', () => endSoon(client));
  client.once('close', () => endSoon(upstream));
  client.on('data', (c: Buffer) => { bytes.up += c.length; });
  upstream.on('data', (c: Buffer) => { bytes.down += c.length; });
  client.pipe(upstream);
  upstream.pipe(client);
}
