// Wiring only.
import { runService } from '../lib/http-server.js';
import { ratingsSettings } from './settings.js';
import { buildRatings } from './app.js';

const s = ratingsSettings.load();
await runService('ratings', buildRatings({ version: s.version }), s.port, s.bind);
