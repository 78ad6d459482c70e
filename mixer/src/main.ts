// Wiring only: read settings, start the mixer, stop on signals.
import { createLogger, SettingsError } from '#api';
import { mixerSettings } from './settings.js';
import { startMixer } from './mixer.js';

let settings: ReturnType<typeof mixerSettings.load>;
try {
  settings = mixerSettings.load();
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`mixer: ${err.message}`);
  process.exit(2);
}
const log = createLogger('mixer', settings.logLevel);
const mixer = await startMixer(settings, log);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'mixer stopping');
  await mixer.close();
  process.exit(0);
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
