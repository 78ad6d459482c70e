// Wiring only.
import { runService } from '../lib/http-server.js';
import { sleepFromEnv } from './app.js';

const { settings, listener } = sleepFromEnv();
await runService('sleep', listener, settings.port, settings.bind);
