import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { newExchange, stack, localResponse, type Exchange, type ProxyResponse, type Service } from '../../../sidecar/src/exchange.js';
import { retryLayer, backoffMs, isRetriable, RETRY_BACKOFF_CAP_MS } from '../../../sidecar/src/layers/retry.js';
import { timeoutLayer } from '../../../sidecar/src/layers/timeout.js';
import { faultLayer } from '../../../sidecar/src/layers/fault.js';
import { headersLayer } from '../../../sidecar/src/layers/headers.js';
import { balanceLayer } from '../../../sidecar/src/layers/balance.js';
import { compileRetry, compileProxyConfig } from '../../../sidecar/src/compile.js';
import { reviewsConfig, endpoint } from '../../support/sidecar-config.js';

function fakeExchange(headers: Record<string, string> = {}): Exchange {
  const req = { method: 'GET', url: '/', headers: { ...headers } } as unknown as IncomingMessage;
  const ex = newExchange(req, 'outbound', performance.now());
  ex.authority = 'reviews:9080';
  ex.path = '/reviews/0';
  return ex;
}

/** A fake upstream answering from a script; records each call. */
function scripted(answers: (ProxyResponse | 'hang')[]): Service & { calls: number; cancelled: string[] } {
  const calls = { n: 0 };
  const cancelled: string[] = [];
  const svc = ((ex: Exchange) => {
    const a = answers[Math.min(calls.n, answers.length - 1)]!;
    calls.n++;
    if (a === 'hang') {
      return new Promise<ProxyResponse>((resolve) => {
        ex.cancelAttempt = (why) => { cancelled.push(why); resolve(localResponse(504, 'cancelled', 'UT', 'timeout')); };
      });
    }
    return Promise.resolve({ ...a, headers: { ...a.headers } });
  }) as Service & { calls: number; cancelled: string[] };
  Object.defineProperty(svc, 'calls', { get: () => calls.n });
  svc.cancelled = cancelled;
  return svc;
}

const ok200: ProxyResponse = { status: 200, headers: {}, body: 'ok' };
const e503: ProxyResponse = { status: 503, headers: {}, body: 'unavailable' };
const connectFail: ProxyResponse = localResponse(503, 'cf', 'UF', 'connect-failure');
const zero = () => 0;

function retry(attempts: number, retryOn: string[], perTryTimeoutMs?: number) {
  return compileRetry({ attempts, retryOn, ...(perTryTimeoutMs ? { perTryTimeoutMs } : {}) }, 'test')!;
}

test('retries 5xx until an attempt succeeds', async () => {
  const up = scripted([e503, e503, ok200]);
  const r = await retryLayer(retry(3, ['5xx']), { random: zero })(up)(fakeExchange());
  assert.equal(r.status, 200);
  assert.equal(up.calls, 3);
});

test('gives up after the configured retries and flags URX', async () => {
  const up = scripted([e503]);
  const ex = fakeExchange();
  const r = await retryLayer(retry(2, ['gateway-error']), { random: zero })(up)(ex);
  assert.equal(r.status, 503);
  assert.equal(up.calls, 3);
  assert.deepEqual(ex.flags, ['URX']);
});

test('retryOn decides what is retriable', () => {
  const p5xx = retry(1, ['5xx']);
  const pcf = retry(1, ['connect-failure']);
  const p4xx = retry(1, ['retriable-4xx', '429']);
  assert.equal(isRetriable(p5xx, { status: 500, headers: {} }), true);
  assert.equal(isRetriable(p5xx, { status: 404, headers: {} }), false);
  assert.equal(isRetriable(p5xx, connectFail), true);
  assert.equal(isRetriable(pcf, e503), false, 'an upstream 503 is not a connect failure');
  assert.equal(isRetriable(pcf, connectFail), true);
  assert.equal(isRetriable(p4xx, { status: 409, headers: {} }), true);
  assert.equal(isRetriable(p4xx, { status: 429, headers: {} }), true);
  assert.equal(isRetriable(p4xx, { status: 500, headers: {} }), false);
  assert.equal(isRetriable(p5xx, localResponse(503, 'uh', 'UH', 'no-healthy-upstream')), false);
});

test('an unknown retry condition is a config error', () => {
  assert.throws(() => retry(1, ['5xx', 'sometimes']), /SC0104.*unknown retry condition "sometimes"/);
});

test('backoff is jittered, grows and is capped', () => {
  assert.equal(backoffMs(0, 0), 1);
  assert.ok(backoffMs(0, 0.999) < 25);
  assert.ok(backoffMs(3, 0.999) < 200 && backoffMs(3, 0.999) >= 100);
  assert.ok(backoffMs(10, 0.999) < RETRY_BACKOFF_CAP_MS);
});

test('a per-try timeout cancels the attempt and retries', async () => {
  const up = scripted(['hang', ok200]);
  const r = await retryLayer(retry(2, ['5xx'], 30), { random: zero })(up)(fakeExchange());
  assert.equal(r.status, 200);
  assert.equal(up.calls, 2);
  assert.deepEqual(up.cancelled, ['timeout']);
});

test('the route timeout covers all attempts: 504 UT', async () => {
  const up = scripted([e503]);
  const ex = fakeExchange();
  const started = Date.now();
  const svc = stack([timeoutLayer(80), retryLayer(retry(1000, ['5xx']), { random: () => 0.99 })], up);
  const r = await svc(ex);
  assert.equal(r.status, 504);
  assert.equal(r.flag, 'UT');
  assert.ok(ex.expired);
  assert.ok(Date.now() - started < 1000, 'answered at the deadline, not after every retry');
  const calls = up.calls;
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(up.calls, calls, 'no attempts after the deadline');
});

test('a streamed body (no content-length) is never retried', async () => {
  const up = scripted([e503, ok200]);
  const ex = fakeExchange({ 'transfer-encoding': 'chunked' });
  ex.hasBody = true;
  const r = await retryLayer(retry(3, ['5xx']), { random: zero })(up)(ex);
  assert.equal(r.status, 503);
  assert.equal(up.calls, 1);
});

test('a small body is buffered so retries can replay it', async () => {
  const body = new PassThrough();
  const req = Object.assign(body, { method: 'POST', url: '/', headers: { 'content-length': '5' }, complete: false }) as unknown as IncomingMessage;
  const ex = newExchange(req, 'outbound', performance.now());
  ex.hasBody = true;
  const up = scripted([e503, ok200]);
  const p = retryLayer(retry(1, ['5xx']), { random: zero })(up)(ex);
  body.end('hello');
  const r = await p;
  assert.equal(r.status, 200);
  assert.equal(up.calls, 2);
  assert.equal(ex.bufferedBody?.toString(), 'hello');
});

test('fault abort answers from the proxy with FI', async () => {
  const up = scripted([ok200]);
  const r = await faultLayer({ abort: { httpStatus: 418, percent: 100 } }, () => 0.5)(up)(fakeExchange());
  assert.equal(r.status, 418);
  assert.equal(r.flag, 'FI');
  assert.equal(up.calls, 0);
  const r2 = await faultLayer({ abort: { httpStatus: 418, percent: 40 } }, () => 0.5)(up)(fakeExchange());
  assert.equal(r2.status, 200, '50 >= 40: no abort');
});

test('fault delay waits, flags DI, then forwards', async () => {
  const up = scripted([ok200]);
  const ex = fakeExchange();
  const started = performance.now();
  const r = await faultLayer({ delay: { fixedDelayMs: 60, percent: 100 } })(up)(ex);
  assert.equal(r.status, 200);
  assert.ok(performance.now() - started >= 55);
  assert.deepEqual(ex.flags, ['DI']);
});

test('header mutations apply to the request and the response', async () => {
  let seen: Record<string, unknown> = {};
  const up: Service = (ex) => { seen = { ...ex.headers }; return Promise.resolve({ status: 200, headers: { server: 'x', 'x-drop': '1' } }); };
  const ex = fakeExchange({ 'x-old': '1', 'x-list': 'a' });
  const r = await headersLayer({ set: { 'X-New': 'n' }, add: { 'x-list': 'b' }, remove: ['x-old'] }, { remove: ['x-drop'], set: { 'x-served-by': 'mesh' } })(up)(ex);
  assert.equal(seen['x-new'], 'n');
  assert.equal(seen['x-list'], 'a,b');
  assert.equal(seen['x-old'], undefined);
  assert.equal(r.headers['x-drop'], undefined);
  assert.equal(r.headers['x-served-by'], 'mesh');
});

test('the balancer spreads round robin, skips unhealthy endpoints, and answers UH when none is left', async () => {
  const cfg = reviewsConfig('p', { v1: [endpoint('10.0.0.1', 15006, 'v1'), endpoint('10.0.0.2', 15006, 'v1'), endpoint('10.0.0.3', 15006, 'v1', { healthy: false })], v2: [] });
  const c = compileProxyConfig(cfg, 'v');
  const v1 = [...c.clusters.values()].find((x) => x.name.includes('|v1|'))!;
  const v2 = [...c.clusters.values()].find((x) => x.name.includes('|v2|'))!;
  const seen: string[] = [];
  const up: Service = (ex) => { seen.push(ex.endpoint!.endpoint.address); return Promise.resolve(ok200); };
  for (let i = 0; i < 4; i++) {
    const ex = fakeExchange();
    ex.cluster = v1;
    await balanceLayer(up)(ex);
  }
  assert.deepEqual(seen, ['10.0.0.1', '10.0.0.2', '10.0.0.1', '10.0.0.2']);
  assert.equal(v1.endpoints[0]!.stats.requests, 2);
  assert.equal(v1.endpoints[0]!.stats.active, 0);
  const ex = fakeExchange();
  ex.cluster = v2;
  const r = await balanceLayer(up)(ex);
  assert.equal(r.status, 503);
  assert.equal(r.flag, 'UH');
});

test('LEAST_REQUEST prefers the endpoint with fewer requests in flight', () => {
  const cfg = reviewsConfig('p', { v1: [endpoint('10.0.0.1', 15006, 'v1'), endpoint('10.0.0.2', 15006, 'v1')], v2: [] });
  cfg.clusters = cfg.clusters.map((c) => ({ ...c, lbPolicy: 'LEAST_REQUEST' }));
  const c = compileProxyConfig(cfg, 'v', { random: () => 0 });
  const v1 = [...c.clusters.values()].find((x) => x.name.includes('|v1|'))!;
  v1.endpoints[0]!.stats.active = 5;
  assert.equal(v1.balancer.pick()?.endpoint.address, '10.0.0.2');
  v1.endpoints[0]!.stats.active = 0;
  v1.endpoints[1]!.stats.active = 3;
  assert.equal(v1.balancer.pick()?.endpoint.address, '10.0.0.1');
});
