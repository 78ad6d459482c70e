// galley's entry point: wiring only.

import { resolve } from 'node:path';
import { connectBus, createLogger, SettingsError } from '#api';
import { buildGalleyApi } from './api.js';
import { Galley } from './galley.js';
import { createMetrics } from './metrics.js';
import { defaultParseLimits } from './parse.js';
import { galleySettings } from './settings.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = galleySettings.load();
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`galley: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger('galley', settings.logLevel);
  const metrics = createMetrics();
  const galley = new Galley({
    configDir: resolve(settings.configDir),
    stateDir: resolve(settings.stateDir),
    debounceMs: settings.debounceMs,
    pollMs: settings.pollMs,
    limits: { ...defaultParseLimits, maxBytes: settings.maxFileBytes },
    log,
    metrics,
  });
  await galley.start();
  const app = buildGalleyApi({ galley, registry: metrics.registry, maxBodyBytes: settings.maxFileBytes });
  await app.listen({ port: settings.port, host: settings.bind });
  log.info({ port: settings.port, bind: settings.bind, configDir: resolve(settings.configDir) }, 'galley listening');

  const bus = await connectBus({
    servers: settings.natsUrl, name: 'galley', log,
    ...(settings.natsUser ? { user: settings.natsUser, pass: settings.natsPass } : {}),
  });
  galley.attachBus(bus);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'galley stopping');
    await galley.close();
    await app.close();
    await bus.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`galley: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
