// When to renew and how long to wait after a failure: pure functions, tested on their own.

/**
 * Renew at 50 % (+-10 % jitter) of the time left when the cert arrived. Measured from receipt,
 * not notBefore: citadel backdates notBefore by a minute for clock skew, which would make a
 * short-lived cert look already half spent.
 */
export function renewalDelayMs(receivedAt: number, notAfter: number, random: () => number = Math.random): number {
  const remaining = notAfter - receivedAt;
  if (remaining <= 0) return 0;
  const fraction = 0.5 + (random() * 0.2 - 0.1);
  return Math.max(0, Math.round(remaining * fraction));
}

/** Exponential backoff: initial, 2x, 4x ... capped; attempt counts from 0. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}
