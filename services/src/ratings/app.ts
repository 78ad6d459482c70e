import type { RequestListener } from 'node:http';
import { readBody, route, router, sendJson } from '../lib/http-server.js';
import { RatingsStore, behaviourFor, parseRatings } from './ratings.js';

export function buildRatings(deps: { version: string; store?: RatingsStore }): RequestListener {
  const store = deps.store ?? new RatingsStore();
  const productId = (raw: string | undefined) => (raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined);
  return router([
    route('GET', /^\/health$/, ({ res }) => sendJson(res, 200, { status: 'Ratings is healthy' })),
    route('POST', /^\/ratings\/([^/]*)$/, async ({ req, res, params }) => {
      const id = productId(params[0]);
      if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product ID' });
      const ratings = parseRatings((await readBody(req, 64 * 1024)).toString('utf8'));
      if (!ratings) return sendJson(res, 400, { error: 'please provide valid ratings JSON' });
      sendJson(res, 200, store.put(id, ratings));
    }),
    route('GET', /^\/ratings\/([^/]*)$/, ({ req, res, params }) => {
      const id = productId(params[0]);
      if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product ID' });
      const b = behaviourFor(deps.version);
      if (b.kind === 'unavailable') return sendJson(res, 503, { error: 'Service unavailable' });
      if (b.kind === 'delay') {
        const t = setTimeout(() => sendJson(res, 200, store.get(id)), b.ms);
        res.once('close', () => clearTimeout(t));
        return;
      }
      sendJson(res, 200, store.get(id));
    }),
  ]);
}
