// Per-proxy push bookkeeping and the istioctl proxy-status verdict derived from it.
import type { ConfigAck, ProxyConfig } from '#api';

export type SyncStatus = 'SYNCED' | 'STALE' | 'NOT SENT' | 'NACKED';

export interface ProxySyncState {
  sent?: { version: string; nonce: string; at: number; config: ProxyConfig };
  acked?: { version: string; nonce: string; at: number };
  /** The last NACK; it counts only while it answers the version last sent. */
  nack?: { version: string; nonce: string; error: string; at: number };
}

export function syncStatus(s: ProxySyncState): SyncStatus {
  if (!s.sent) return 'NOT SENT';
  if (s.nack && s.nack.version === s.sent.version) return 'NACKED';
  if (s.acked?.version === s.sent.version) return 'SYNCED';
  return 'STALE';
}

/** Applies an ACK or NACK. Returns false when the answer is for nothing pilot sent. */
export function recordAck(s: ProxySyncState, ack: ConfigAck, now: number): boolean {
  const current = s.sent && (ack.nonce === s.sent.nonce || ack.version === s.sent.version);
  if (ack.ok) {
    // A late ACK of an older push must not undo a newer one.
    if (!current && s.sent && s.acked?.version === s.sent.version) return false;
    s.acked = { version: ack.version, nonce: ack.nonce, at: now };
    if (current) s.nack = undefined;
    return true;
  }
  // A NACK names the rejected push by nonce; attribute it to the version that push carried.
  const version = current ? s.sent!.version : ack.version;
  s.nack = { version, nonce: ack.nonce, error: ack.error ?? 'rejected without a reason', at: now };
  return true;
}
