// citadel on the bus: answers CSRs and trust-bundle requests (queue group, so several
// citadels share the load) and publishes the trust bundle at start and after every reconnect.

import type { Subscription } from 'nats';
import { subjects, type Bus, type CsrRequest, type Logger, type TrustBundle } from '#api';
import type { Issuer } from './issue.js';

export const CITADEL_QUEUE = 'citadel';

export interface CitadelBus {
  publishBundle(): void;
  stop(): void;
}

export function attachCitadelBus(deps: { bus: Bus; issue: Issuer; trustBundle: () => TrustBundle; log: Logger }): CitadelBus {
  const { bus, issue, trustBundle, log } = deps;
  const subs: Subscription[] = [];
  let stopped = false;

  subs.push(bus.subscribe<CsrRequest>(subjects.certSign, async (m) => {
    m.respond(await issue(m.data));
  }, { queue: CITADEL_QUEUE }));

  subs.push(bus.subscribe<unknown>(subjects.trustBundleGet, (m) => {
    m.respond(trustBundle());
  }, { queue: CITADEL_QUEUE }));

  const publishBundle = () => {
    if (stopped) return;
    const b = trustBundle();
    bus.publish(subjects.trustBundle, b);
    log.debug({ version: b.version }, 'published trust bundle');
  };
  // Sidecars that were away missed the last publish; they also ask, but tell them anyway.
  bus.onReconnect(publishBundle);
  publishBundle();

  return {
    publishBundle,
    stop() {
      stopped = true;
      for (const s of subs) s.unsubscribe();
    },
  };
}

/** Whether the bus is up right now, for /ready. */
export function trackConnection(bus: Bus): () => boolean {
  let up = !bus.nc.isClosed();
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type === 'disconnect') up = false;
      else if (s.type === 'reconnect') up = true;
    }
    up = false;
  })();
  return () => up && !bus.nc.isClosed();
}
