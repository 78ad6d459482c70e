// Wiring only.
import { runService } from '../lib/http-server.js';
import { reviewsFromEnv } from './app.js';

const { settings, listener } = reviewsFromEnv();
await runService('reviews', listener, settings.port, settings.bind);
