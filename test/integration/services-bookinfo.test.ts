// Bookinfo wired directly (no mesh): productpage -> details + reviews -> ratings, each an
// in-process server on a free port, found through the original's *_HOSTNAME/*_SERVICE_PORT env.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, RequestListener } from 'node:http';
import { listen, sendJson, type RunningService } from '../../services/src/lib/http-server.js';
import { buildDetails } from '../../services/src/details/app.js';
import { buildRatings } from '../../services/src/ratings/app.js';
import { reviewsFromEnv } from '../../services/src/reviews/app.js';
import { productpageFromEnv } from '../../services/src/productpage/app.js';

const running: RunningService[] = [];
const seen: Record<string, IncomingHttpHeaders[]> = { ratings: [], reviews: [], details: [], failing: [] };

/** Records the headers each service receives, then lets it answer. */
function spy(name: string, inner: RequestListener): RequestListener {
  return (req, res) => { seen[name]!.push(req.headers); inner(req, res); };
}

async function start(listener: RequestListener): Promise<RunningService> {
  const s = await listen(listener, 0, '127.0.0.1');
  running.push(s);
  return s;
}

let ratings: RunningService, details: RunningService, reviewsV1: RunningService, reviewsV3: RunningService, failing: RunningService;
let pageV3: RunningService, pageV1: RunningService, pageBroken: RunningService;

function backendEnv(reviews: RunningService, det: RunningService = details): NodeJS.ProcessEnv {
  return {
    DETAILS_HOSTNAME: '127.0.0.1', DETAILS_SERVICE_PORT: String(det.port),
    REVIEWS_HOSTNAME: '127.0.0.1', REVIEWS_SERVICE_PORT: String(reviews.port),
    RATINGS_HOSTNAME: '127.0.0.1', RATINGS_SERVICE_PORT: String(ratings.port),
  };
}

before(async () => {
  ratings = await start(spy('ratings', buildRatings({ version: 'v1' })));
  details = await start(spy('details', buildDetails()));
  const ratingsEnv = { RATINGS_HOSTNAME: '127.0.0.1', RATINGS_SERVICE_PORT: String(ratings.port), HOSTNAME: 'reviews-test' };
  reviewsV3 = await start(spy('reviews', reviewsFromEnv({ ...ratingsEnv, ENABLE_RATINGS: 'true', STAR_COLOR: 'red', SERVICE_VERSION: 'v3' }).listener));
  reviewsV1 = await start(reviewsFromEnv({ ...ratingsEnv, ENABLE_RATINGS: 'false', SERVICE_VERSION: 'v1' }).listener);
  failing = await start(spy('failing', (_req, res) => sendJson(res, 503, { error: 'down' })));
  pageV3 = await start(productpageFromEnv(backendEnv(reviewsV3)).listener);
  pageV1 = await start(productpageFromEnv(backendEnv(reviewsV1)).listener);
  pageBroken = await start(productpageFromEnv(backendEnv(failing, failing)).listener);
});

after(async () => {
  await Promise.all(running.map((s) => s.close()));
});

const count = (s: string, needle: string) => s.split(needle).length - 1;

test('every service answers /health', async () => {
  for (const s of [ratings, details, reviewsV3, pageV3]) {
    const res = await fetch(`${s.url}/health`);
    assert.equal(res.status, 200, s.url);
  }
});

test('the page through reviews v3 shows red stars from ratings', async () => {
  const res = await fetch(`${pageV3.url}/productpage`, { headers: { 'x-request-id': 'req-1', 'x-b3-traceid': 'abc' } });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.equal(count(html, '<font color="red">'), 2);
  assert.equal(count(html, 'class="glyphicon glyphicon-star"'), 9);
  assert.match(html, /<dt>Publisher:<\/dt><dd>PublisherA<\/dd>/);
  assert.match(html, /reviews-test/);
  // Tracing headers travel productpage -> reviews -> ratings.
  assert.equal(seen.reviews!.at(-1)?.['x-request-id'], 'req-1');
  assert.equal(seen.ratings!.at(-1)?.['x-b3-traceid'], 'abc');
});

test('the page through reviews v1 shows no stars', async () => {
  const html = await (await fetch(`${pageV1.url}/productpage`)).text();
  assert.equal(count(html, '<font'), 0);
  assert.match(html, /Book Reviews/);
  assert.match(html, /Absolutely fun and entertaining/);
});

test('login sets the user cookie; end-user then reaches reviews and ratings; logout clears it', async () => {
  const login = await fetch(`${pageV3.url}/login`, { method: 'POST', body: new URLSearchParams({ username: 'jason', passwd: 'x' }), redirect: 'manual' });
  assert.equal(login.status, 302);
  assert.equal(login.headers.get('location'), 'productpage');
  const cookie = login.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^user=jason;/);
  const html = await (await fetch(`${pageV3.url}/productpage`, { headers: { cookie: 'user=jason' } })).text();
  assert.match(html, /jason \( <a href="logout">sign out<\/a> \)/);
  assert.equal(seen.reviews!.at(-1)?.['end-user'], 'jason');
  assert.equal(seen.ratings!.at(-1)?.['end-user'], 'jason');
  const logout = await fetch(`${pageV3.url}/logout`, { redirect: 'manual' });
  assert.match(logout.headers.get('set-cookie') ?? '', /user=; .*Max-Age=0/);
});

test('when reviews and details fail the page says so, after one retry toward reviews', async () => {
  seen.failing!.length = 0;
  const res = await fetch(`${pageBroken.url}/productpage`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /Error fetching product details!/);
  assert.match(html, /Sorry, product details are currently unavailable for this book\./);
  assert.match(html, /Sorry, product reviews are currently unavailable for this book\./);
  // one details call + two reviews attempts
  assert.equal(seen.failing!.length, 3);
});

test('the JSON API mirrors the original', async () => {
  const products = await (await fetch(`${pageV3.url}/api/v1/products`)).json() as { id: number; title: string }[];
  assert.equal(products[0]?.title, 'The Comedy of Errors');
  const det = await (await fetch(`${pageV3.url}/api/v1/products/0`)).json() as Record<string, unknown>;
  assert.equal(det['ISBN-13'], '123-1234567890');
  const rev = await (await fetch(`${pageV3.url}/api/v1/products/0/reviews`)).json() as { reviews: { rating: { color: string } }[] };
  assert.equal(rev.reviews[0]?.rating.color, 'red');
  const rat = await (await fetch(`${pageV3.url}/api/v1/products/0/ratings`)).json();
  assert.deepEqual(rat, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  const broken = await fetch(`${pageBroken.url}/api/v1/products/0/reviews`);
  assert.equal(broken.status, 503);
  assert.deepEqual(await broken.json(), { error: 'Sorry, product reviews are currently unavailable for this book.' });
});

test('ratings accepts POSTed ratings and rejects bad ids', async () => {
  const post = await fetch(`${ratings.url}/ratings/7`, { method: 'POST', body: JSON.stringify({ Reviewer1: 1, Reviewer2: 2 }) });
  assert.deepEqual(await post.json(), { id: 7, ratings: { Reviewer1: 1, Reviewer2: 2 } });
  assert.equal((await fetch(`${ratings.url}/ratings/x`)).status, 400);
  assert.equal((await fetch(`${details.url}/details/x`)).status, 400);
});

test('index and stylesheet render without external assets', async () => {
  const html = await (await fetch(`${pageV3.url}/`)).text();
  assert.match(html, /Normal user/);
  assert.doesNotMatch(html, /https?:\/\/(?!en\.wikipedia|127\.0\.0\.1)/);
  const css = await fetch(`${pageV3.url}/static/bookinfo.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
});
