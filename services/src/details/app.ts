import type { RequestListener } from 'node:http';
import { route, router, sendJson } from '../lib/http-server.js';
import { bookDetails } from './details.js';

export function buildDetails(): RequestListener {
  return router([
    route('GET', /^\/health$/, ({ res }) => sendJson(res, 200, { status: 'Details is healthy' })),
    route('GET', /^\/details(?:\/([^/]*))?$/, ({ res, params }) => {
      const raw = params[0] ?? '';
      if (!/^-?\d+$/.test(raw)) {
        sendJson(res, 400, { error: 'please provide numeric product id' });
        return;
      }
      sendJson(res, 200, bookDetails(Number(raw)));
    }),
  ]);
}
