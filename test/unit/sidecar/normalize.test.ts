import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath, splitTarget } from '../../../sidecar/src/layers/normalize.js';

const ok: [string, string][] = [
  ['/', '/'],
  ['/reviews/0', '/reviews/0'],
  ['/reviews/0?x=1&y=//a/../b', '/reviews/0?x=1&y=//a/../b'], // the query is left alone
  ['//admin', '/admin'],
  ['///a//b///', '/a/b/'],
  ['/a/./b', '/a/b'],
  ['/a/b/../c', '/a/c'],
  ['/a/b/..', '/a/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/a/%2e%2e/admin', '/admin'], // encoded dot segments resolve too
  ['/a/%2E/b', '/a/b'],
  ['/%7Euser', '/~user'], // unreserved characters decode
  ['/a%20b', '/a%20b'],
  ['/a%3fb', '/a%3Fb'], // reserved stay encoded, hex upper-cased
  ['/a#frag', '/a'],
  ['/a/.well-known/x', '/a/.well-known/x'],
  ['/a/..b/c', '/a/..b/c'],
];

const refused: [string, RegExp][] = [
  ['/a%2Fb', /encoded slash/],
  ['/a%2fb', /encoded slash/],
  ['/a%5Cb', /encoded slash or backslash/],
  ['/a\\b', /backslash/],
  ['/a%00', /NUL/],
  ['/a%zz', /percent-encoding/],
  ['/a%2', /percent-encoding/],
  ['a/b', /start with/],
  ['', /start with/],
  ['/fetch/http://evil', /URL scheme/],
];

test('paths normalise to one canonical string', () => {
  for (const [input, want] of ok) {
    const r = normalizePath(input);
    assert.ok(r.ok, `${input} should be accepted`);
    assert.equal(r.path, want, input);
  }
});

test('ambiguous paths are refused', () => {
  for (const [input, why] of refused) {
    const r = normalizePath(input);
    assert.equal(r.ok, false, `${input} should be refused`);
    if (!r.ok) assert.match(r.reason, why, input);
  }
});

test('normalisation is idempotent', () => {
  for (const [input] of ok) {
    const once = normalizePath(input);
    assert.ok(once.ok);
    const twice = normalizePath(once.path);
    assert.ok(twice.ok);
    assert.equal(twice.path, once.path, input);
  }
});

test('request targets split into authority and path', () => {
  assert.deepEqual(splitTarget('http://Reviews:9080/reviews/0?a=1', 'ignored'), { authority: 'reviews:9080', path: '/reviews/0?a=1' });
  assert.deepEqual(splitTarget('http://reviews:9080', undefined), { authority: 'reviews:9080', path: '/' });
  assert.deepEqual(splitTarget('http://reviews?q=1', undefined), { authority: 'reviews', path: '/?q=1' });
  assert.deepEqual(splitTarget('/x', 'reviews:9080'), { authority: 'reviews:9080', path: '/x' });
  assert.ok('error' in splitTarget('/x', undefined));
  assert.ok('error' in splitTarget('https://reviews/x', undefined));
  assert.ok('error' in splitTarget('http://user@reviews/x', undefined));
});
