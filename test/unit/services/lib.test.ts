import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardHeaders } from '../../../services/src/lib/propagation.js';
import { outboundHeaders, userFromCookie } from '../../../services/src/productpage/app.js';
import { canonicalHeaders, pickStatus, delaySeconds, args, origin } from '../../../services/src/httpbin/httpbin.js';
import { parseHeaderParams } from '../../../services/src/sleep/app.js';

test('only tracing and identity headers are forwarded', () => {
  const out = forwardHeaders({ 'x-request-id': 'r1', 'x-b3-traceid': 't', traceparent: 'tp', 'end-user': 'jason', host: 'h', 'content-length': '3' });
  assert.deepEqual(out, { 'x-request-id': 'r1', 'x-b3-traceid': 't', traceparent: 'tp', 'end-user': 'jason' });
});

test('productpage takes end-user from its session cookie, never from the request', () => {
  assert.equal(userFromCookie('a=b; user=jason%20x; c=d'), 'jason x');
  assert.equal(userFromCookie(undefined), '');
  assert.equal(outboundHeaders({ 'end-user': 'mallory' })['end-user'], undefined);
  assert.equal(outboundHeaders({ cookie: 'user=jason', 'x-request-id': 'r' })['end-user'], 'jason');
});

test('httpbin helpers', () => {
  assert.deepEqual(canonicalHeaders({ 'x-b3-sampled': '1', host: 'h' }), { 'X-B3-Sampled': '1', Host: 'h' });
  assert.equal(pickStatus('418'), 418);
  assert.equal(pickStatus('200,503', () => 0.9), 503);
  assert.equal(pickStatus('200:0.9,503:0.1', () => 0.5), 200);
  assert.equal(pickStatus('abc'), undefined);
  assert.equal(pickStatus('99'), undefined);
  assert.equal(delaySeconds('30'), 10);
  assert.equal(delaySeconds('-1'), undefined);
  assert.deepEqual(args(new URLSearchParams('a=1&b=2&b=3')), { a: '1', b: ['2', '3'] });
  assert.equal(origin({ 'x-forwarded-for': '10.0.0.1, 10.0.0.2' }, '127.0.0.1'), '10.0.0.1');
  assert.equal(origin({}, '::ffff:127.0.0.1'), '127.0.0.1');
});

test('sleep header parameters', () => {
  assert.deepEqual(parseHeaderParams(['End-User: jason']), { 'end-user': 'jason' });
  assert.equal(typeof parseHeaderParams(['nocolon']), 'string');
});
