import type { RequestListener } from 'node:http';
import { route, router, sendJson } from '../lib/http-server.js';
import { createClient, type OutboundClient } from '../lib/client.js';
import { proxyEnv } from '../lib/settings.js';
import { reviewsSettings } from './settings.js';
import { forwardHeaders } from '../lib/propagation.js';
import { ratingsTimeoutMs, reviewsBody } from './reviews.js';

export interface ReviewsDeps {
  client: OutboundClient;
  ratingsEnabled: boolean;
  starColor: string;
  /** `http://ratings:9080` */
  ratingsUrl: string;
  podName: string;
  clusterName: string;
  ratingsTimeoutMs?: number;
}

export function buildReviews(deps: ReviewsDeps): RequestListener {
  const timeoutMs = deps.ratingsTimeoutMs ?? ratingsTimeoutMs(deps.starColor);

  async function fetchRatings(productId: number, headers: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await deps.client.get(`${deps.ratingsUrl}/ratings/${productId}`, { headers: { ...headers, accept: 'application/json' }, timeoutMs });
      if (res.status !== 200) return undefined;
      const body = JSON.parse(res.body) as { ratings?: Record<string, unknown> };
      return body.ratings && typeof body.ratings === 'object' ? body.ratings : undefined;
    } catch {
      return undefined;
    }
  }

  return router([
    route('GET', /^\/health$/, ({ res }) => sendJson(res, 200, { status: 'Reviews is healthy' })),
    route('GET', /^\/reviews\/([^/]*)$/, async ({ req, res, params }) => {
      if (!/^-?\d+$/.test(params[0] ?? '')) return sendJson(res, 404, { error: 'product id must be an integer' });
      const productId = Number(params[0]);
      const ratings = deps.ratingsEnabled ? await fetchRatings(productId, forwardHeaders(req.headers)) : undefined;
      sendJson(res, 200, reviewsBody({ productId, podName: deps.podName, clusterName: deps.clusterName, ratingsEnabled: deps.ratingsEnabled, starColor: deps.starColor, ratings }));
    }),
  ]);
}

export function reviewsFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const s = reviewsSettings.load(proxyEnv(env));
  const domain = s.servicesDomain ? `.${s.servicesDomain}` : '';
  return {
    settings: s,
    listener: buildReviews({
      client: createClient({ httpProxy: s.httpProxy, noProxy: s.noProxy }),
      ratingsEnabled: s.enableRatings,
      starColor: s.starColor,
      ratingsUrl: `http://${s.ratingsHostname}${domain}:${s.ratingsPort}`,
      podName: s.podName,
      clusterName: s.clusterName,
    }),
  };
}
