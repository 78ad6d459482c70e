// Explicit proxy mode: with HTTP_PROXY set, apps send absolute-form requests to the proxy with
// Host naming the target (what the sidecar's outbound listener expects). Plus sleep and httpbin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { listen, sendJson, type RunningService } from '../../services/src/lib/http-server.js';
import { bookDetails } from '../../services/src/details/details.js';
import { productpageFromEnv } from '../../services/src/productpage/app.js';
import { sleepFromEnv } from '../../services/src/sleep/app.js';
import { buildHttpbin } from '../../services/src/httpbin/app.js';

const running: RunningService[] = [];
const proxied: { url: string; headers: IncomingHttpHeaders }[] = [];
let proxy: RunningService, page: RunningService, sleep: RunningService, sleepDirect: RunningService, httpbin: RunningService;

before(async () => {
  // A fake sidecar: answers as the mesh would for the targets it is asked about.
  proxy = await listen((req, res) => {
    proxied.push({ url: req.url ?? '', headers: req.headers });
    const u = new URL(req.url ?? '/', 'http://invalid');
    if (u.host === 'details:9080') return sendJson(res, 200, bookDetails(0));
    if (u.host === 'reviews:9080') return sendJson(res, 200, { id: '0', podname: 'p', clustername: 'null', reviews: [{ reviewer: 'R', text: 't', rating: { stars: 2, color: 'black' } }] });
    if (u.host === 'httpbin:8000') return sendJson(res, 200, { via: 'proxy' });
    sendJson(res, 404, { error: 'no route' });
  }, 0, '127.0.0.1');
  running.push(proxy);
  httpbin = await listen(buildHttpbin({ version: 'v2' }), 0, '127.0.0.1');
  running.push(httpbin);
  page = await listen(productpageFromEnv({ HTTP_PROXY: `http://127.0.0.1:${proxy.port}` }).listener, 0, '127.0.0.1');
  running.push(page);
  sleep = await listen(sleepFromEnv({ http_proxy: `127.0.0.1:${proxy.port}`, NO_PROXY: '127.0.0.1' }).listener, 0, '127.0.0.1');
  running.push(sleep);
  sleepDirect = await listen(sleepFromEnv({}).listener, 0, '127.0.0.1');
  running.push(sleepDirect);
});

after(async () => {
  await Promise.all(running.map((s) => s.close()));
});

test('productpage sends absolute-form requests to HTTP_PROXY with Host = target', async () => {
  proxied.length = 0;
  const html = await (await fetch(`${page.url}/productpage`, { headers: { cookie: 'user=jason' } })).text();
  assert.equal(html.split('class="glyphicon glyphicon-star"').length - 1, 2);
  const urls = proxied.map((p) => p.url).sort();
  assert.deepEqual(urls, ['http://details:9080/details/0', 'http://reviews:9080/reviews/0']);
  const toReviews = proxied.find((p) => p.url.includes('reviews'))!;
  assert.equal(toReviews.headers.host, 'reviews:9080');
  assert.equal(toReviews.headers['end-user'], 'jason');
});

test('sleep fetches through the proxy, and bypasses it for NO_PROXY hosts', async () => {
  const viaProxy = await (await fetch(`${sleep.url}/fetch?url=${encodeURIComponent('http://httpbin:8000/headers')}&header=end-user:jason`)).json() as { status: number; body: string };
  assert.equal(viaProxy.status, 200);
  assert.deepEqual(JSON.parse(viaProxy.body), { via: 'proxy' });
  assert.equal(proxied.at(-1)?.url, 'http://httpbin:8000/headers');
  assert.equal(proxied.at(-1)?.headers['end-user'], 'jason');

  const direct = await (await fetch(`${sleep.url}/fetch?url=${encodeURIComponent(`${httpbin.url}/status/418`)}`)).json() as { status: number; headers: Record<string, string> };
  assert.equal(direct.status, 418);
  assert.equal(direct.headers['x-service-version'], 'v2');
});

test('sleep reports connection failures as 502 with a code', async () => {
  const closed = await listen(() => {}, 0, '127.0.0.1');
  const port = closed.port;
  await closed.close();
  const res = await fetch(`${sleepDirect.url}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${port}/`)}`);
  assert.equal(res.status, 502);
  assert.equal(((await res.json()) as { code: string }).code, 'CONNECT');
  assert.equal((await fetch(`${sleepDirect.url}/fetch`)).status, 400);
});

test('httpbin: headers, anything, delay, response-headers', async () => {
  const h = await (await fetch(`${httpbin.url}/headers`, { headers: { 'x-b3-sampled': '1' } })).json() as { headers: Record<string, string> };
  assert.equal(h.headers['X-B3-Sampled'], '1');
  const any = await (await fetch(`${httpbin.url}/anything/x?a=1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"k":2}' })).json() as { method: string; json: unknown; args: unknown };
  assert.equal(any.method, 'PUT');
  assert.deepEqual(any.json, { k: 2 });
  assert.deepEqual(any.args, { a: '1' });
  const t0 = Date.now();
  const d = await fetch(`${httpbin.url}/delay/0.2`);
  assert.equal(d.status, 200);
  assert.ok(Date.now() - t0 >= 180);
  const rh = await fetch(`${httpbin.url}/response-headers?x-test=yes`);
  assert.equal(rh.headers.get('x-test'), 'yes');
  assert.equal((await fetch(`${httpbin.url}/status/abc`)).status, 400);
  const uuid = await (await fetch(`${httpbin.url}/uuid`)).json() as { uuid: string };
  assert.match(uuid.uuid, /^[0-9a-f-]{36}$/);
});
