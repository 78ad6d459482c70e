import type { RequestListener } from 'node:http';
import { readBody, redirect, route, router, sendJson, sendText } from '../lib/http-server.js';
import { forwardHeaders, type HeaderBag } from '../lib/propagation.js';
import { Backends } from './backends.js';
import { createClient } from '../lib/client.js';
import { proxyEnv } from '../lib/settings.js';
import { productpageSettings } from './settings.js';
import { renderIndex, renderProductPage, STYLESHEET } from './page.js';
import { PRODUCTS, product, serviceTree, type ServiceNode } from './products.js';

export interface ProductpageDeps {
  backends: Backends;
  serviceTree: ServiceNode;
}

/** The signed-in user lives in a `user` cookie (the original keeps it in Flask's session cookie). */
export function userFromCookie(cookie: string | undefined): string {
  for (const part of (cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'user') {
      try { return decodeURIComponent(v.join('=')); } catch { return ''; }
    }
  }
  return '';
}

/** What productpage forwards: tracing headers from the request, and end-user from the session only. */
export function outboundHeaders(incoming: HeaderBag): Record<string, string> {
  const headers = forwardHeaders(incoming, ['end-user']);
  const user = userFromCookie(typeof incoming.cookie === 'string' ? incoming.cookie : undefined);
  if (user) headers['end-user'] = user;
  return headers;
}

const json = { 'content-type': 'application/json' };

export function buildProductpage(deps: ProductpageDeps): RequestListener {
  const { backends } = deps;
  return router([
    route('GET', /^\/(?:index\.html)?$/, ({ res }) => sendText(res, 200, renderIndex(deps.serviceTree), 'text/html; charset=utf-8')),
    route('GET', /^\/health$/, ({ res }) => sendText(res, 200, 'Product page is healthy')),
    route('GET', /^\/static\/bookinfo\.css$/, ({ res }) => sendText(res, 200, STYLESHEET, 'text/css; charset=utf-8')),
    route('POST', /^\/login$/, async ({ req, res }) => {
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      const user = (form.get('username') ?? '').trim();
      const cookie = user ? `user=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax` : 'user=; Path=/; Max-Age=0';
      redirect(res, 'productpage', { 'set-cookie': cookie });
    }),
    route('GET', /^\/logout$/, ({ res }) => redirect(res, 'productpage', { 'set-cookie': 'user=; Path=/; Max-Age=0' })),
    route('GET', /^\/productpage$/, async ({ req, res }) => {
      const productId = 0;
      const headers = outboundHeaders(req.headers);
      const [details, reviews] = await Promise.all([backends.details(productId, headers), backends.reviews(productId, headers)]);
      sendText(res, 200, renderProductPage({
        product: product(productId),
        user: userFromCookie(req.headers.cookie),
        detailsStatus: details.status,
        details: details.body as Record<string, unknown>,
        reviewsStatus: reviews.status,
        reviews: reviews.body as Record<string, unknown>,
      }), 'text/html; charset=utf-8');
    }),
    route('GET', /^\/api\/v1\/products$/, ({ res }) => sendJson(res, 200, PRODUCTS)),
    route('GET', /^\/api\/v1\/products\/([^/]+)$/, async ({ req, res, params }) => {
      const r = await backends.details(encodeURIComponent(params[0]!), outboundHeaders(req.headers));
      sendJson(res, r.status, r.body, json);
    }),
    route('GET', /^\/api\/v1\/products\/([^/]+)\/reviews$/, async ({ req, res, params }) => {
      const r = await backends.reviews(encodeURIComponent(params[0]!), outboundHeaders(req.headers));
      sendJson(res, r.status, r.body, json);
    }),
    route('GET', /^\/api\/v1\/products\/([^/]+)\/ratings$/, async ({ req, res, params }) => {
      const r = await backends.ratings(encodeURIComponent(params[0]!), outboundHeaders(req.headers));
      sendJson(res, r.status, r.body, json);
    }),
  ]);
}

/** The service as its environment describes it (the original's *_HOSTNAME / *_SERVICE_PORT). */
export function productpageFromEnv(env: NodeJS.ProcessEnv = process.env) {
  const s = productpageSettings.load(proxyEnv(env));
  const domain = s.servicesDomain ? `.${s.servicesDomain}` : '';
  const urls = {
    details: `http://${s.detailsHostname}${domain}:${s.detailsPort}`,
    reviews: `http://${s.reviewsHostname}${domain}:${s.reviewsPort}`,
    ratings: `http://${s.ratingsHostname}${domain}:${s.ratingsPort}`,
  };
  const client = createClient({ httpProxy: s.httpProxy, noProxy: s.noProxy });
  return { settings: s, listener: buildProductpage({ backends: new Backends({ client, urls }), serviceTree: serviceTree(urls) }) };
}
