// citadel entry point: wiring only (settings, root, attestor, bus, HTTP API).

import { SettingsError, connectBus, createLogger, type Bus } from '#api';
import { buildCitadelApi } from './api.js';
import { attestorFor } from './attest.js';
import { attachCitadelBus, trackConnection, type CitadelBus } from './bus.js';
import { CertificateAuthority } from './ca.js';
import { dockerInspector } from './docker.js';
import { CitadelError } from './errors.js';
import { Inventory } from './inventory.js';
import { createIssuer } from './issue.js';
import { createMetrics } from './metrics.js';
import { loadOrCreateRoot } from './root.js';
import { citadelSettings } from './settings.js';

async function main(): Promise<void> {
  const s = citadelSettings.load();
  const log = createLogger('citadel', s.logLevel);
  if (s.certTtlDefaultSeconds > s.certTtlMaxSeconds) {
    throw new CitadelError('CA_CONFIG_INVALID', `MESH_CERT_TTL_DEFAULT_SECONDS (${s.certTtlDefaultSeconds}) exceeds MESH_CERT_TTL_MAX_SECONDS (${s.certTtlMaxSeconds})`);
  }
  const attestor = attestorFor(s.attestation, { bootstrapSecret: s.bootstrapSecret, dockerSocket: s.dockerSocket, makeInspector: dockerInspector });
  if (attestor.kind === 'none') log.warn('attestation is none: any requester gets any identity it asks for');

  const roots = await loadOrCreateRoot({ dataDir: s.dataDir, trustDomain: s.trustDomain, rootTtlDays: s.rootTtlDays, log });
  const ca = new CertificateAuthority(roots.signing, s.trustDomain, roots.extra);
  const metrics = createMetrics();
  metrics.rootExpiry.set(Date.parse(ca.signingRoot().notAfter) / 1000);
  const inventory = new Inventory(s.inventorySize);
  const issue = createIssuer({ ca, attestor, inventory, metrics, log, ttlDefaultSeconds: s.certTtlDefaultSeconds, ttlMaxSeconds: s.certTtlMaxSeconds });

  let bus: Bus | undefined;
  let busUp: () => boolean = () => false;
  const app = buildCitadelApi({ ca, inventory, metrics, attestation: attestor.kind, busConnected: () => busUp() });
  // Listen before the bus is up so /ready can say why citadel is not ready yet.
  await app.listen({ port: s.port, host: s.bind });
  log.info({ port: s.port, bind: s.bind, attestation: attestor.kind, trustDomain: s.trustDomain }, 'citadel API listening');

  bus = await connectBus({ servers: s.natsUrl, name: 'citadel', user: s.natsUser || undefined, pass: s.natsPass || undefined, log });
  busUp = trackConnection(bus);
  const citadelBus: CitadelBus = attachCitadelBus({ bus, issue, trustBundle: () => ca.trustBundle(), log });
  log.info({ nats: s.natsUrl, trustBundle: ca.trustBundle().version }, 'citadel ready');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'citadel stopping');
    citadelBus.stop();
    await Promise.allSettled([app.close(), bus?.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const code = err instanceof CitadelError ? err.code : err instanceof SettingsError ? 'SETTINGS_INVALID' : 'CITADEL_START_FAILED';
  createLogger('citadel').fatal({ code, err: (err as Error).message }, 'citadel cannot start');
  process.exit(2);
});
