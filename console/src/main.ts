// The console's entry point: wiring only (settings, assets, upstreams, listen).

import { createLogger, SettingsError } from '#api';
import { consoleSettings } from './settings.js';
import { loadAssets } from './assets.js';
import { httpUpstream } from './upstreams.js';
import { buildConsoleApp } from './app.js';

let settings: ReturnType<typeof consoleSettings.load>;
try {
  settings = consoleSettings.load();
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  process.stderr.write(`console: ${err.message}\n`);
  process.exit(2);
}
const log = createLogger('console', settings.logLevel);
let assets;
try {
  assets = loadAssets(settings.assetsDir || undefined);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const urls = { galley: settings.galleyUrl, pilot: settings.pilotUrl, citadel: settings.citadelUrl, mixer: settings.mixerUrl };
const app = buildConsoleApp({
  upstream: httpUpstream(urls, settings.upstreamTimeoutMs), assets, urls,
  ...(settings.prometheusUrl ? { prometheusUrl: settings.prometheusUrl } : {}),
});
await app.listen({ port: settings.port, host: settings.bind });
log.info({ port: settings.port, bind: settings.bind, upstreams: urls }, 'console listening');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'console stopping');
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
