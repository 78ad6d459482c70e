// Wiring only.
import { runService } from '../lib/http-server.js';
import { productpageFromEnv } from './app.js';

const { settings, listener } = productpageFromEnv();
await runService('productpage', listener, settings.port, settings.bind);
