// Wiring only.
import { runService } from '../lib/http-server.js';
import { httpbinSettings } from './settings.js';
import { buildHttpbin } from './app.js';

const s = httpbinSettings.load();
await runService('httpbin', buildHttpbin({ version: s.version }), s.port, s.bind);
