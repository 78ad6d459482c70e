// Wiring only.
import { runService } from '../lib/http-server.js';
import { detailsSettings } from './settings.js';
import { buildDetails } from './app.js';

const s = detailsSettings.load();
await runService('details', buildDetails(), s.port, s.bind);
