// Istio 1.1's expression language as its samples and docs use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, evaluateMatch, ExpressionError } from '../../../mixer/src/config/expression.js';
import { checkBag, reportBag } from '../../../mixer/src/config/attributes.js';
import { checkReq, peers, record } from './fixtures.js';

const req = checkReq(peers.reviewsV3, peers.ratings, 'ratings', { 'x-user': 'john', 'user-agent': 'curl/8' }, '/ratings/0?x=1');
const ev = (src: string) => compileExpression(src).evaluate(checkBag(req));

test('attribute vocabulary: labels, principals, service, request fields', () => {
  assert.equal(ev('source.labels["app"]'), 'reviews');
  assert.equal(ev('destination.labels["app"] == "ratings" && source.labels["app"]=="reviews" && source.labels["version"] == "v3"'), true);
  assert.equal(ev('source.user'), 'cluster.local/ns/default/sa/bookinfo-reviews');
  assert.equal(ev('source.principal == "cluster.local/ns/default/sa/bookinfo-reviews"'), true);
  assert.equal(ev('destination.service.host'), 'ratings.default.svc.cluster.local');
  assert.equal(ev('destination.service.name'), 'ratings');
  assert.equal(ev('request.path'), '/ratings/0?x=1');
  assert.equal(ev('request.url_path'), '/ratings/0');
  assert.equal(ev('request.query_params["x"]'), '1');
  assert.equal(ev('request.useragent'), 'curl/8');
  assert.equal(ev('context.reporter.kind'), 'inbound');
  assert.equal(ev('connection.mtls'), true);
  assert.equal(ev('source.workload.uid'), 'istio://default/workloads/reviews-v3');
});

test('| takes the first present operand; absent attributes fail everything else', () => {
  assert.equal(ev('(request.headers["x-user"] | "") == "john"'), true);
  assert.equal(ev('request.headers["x-missing"] | "dflt"'), 'dflt');
  assert.equal(ev('source.labels["nope"] | source.service | "unknown"'), 'unknown');
  assert.equal(ev('response.code | 200'), 200);
  assert.deepEqual(evaluateMatch(compileExpression('request.headers["x-missing"] == "a"'), checkBag(req)), { matched: false });
  assert.equal(ev('conditional((context.reporter.kind | "inbound") == "outbound", "client", "server")'), 'server');
});

test('functions: match, matches, startsWith/endsWith, ip, timestamp and duration comparisons', () => {
  assert.equal(ev('match(request.headers["user-agent"], "curl*")'), true);
  assert.equal(ev('match(request.headers["user-agent"], "*/9")'), false);
  assert.equal(ev('match(request.path, "/ratings*") == false'), false);
  assert.equal(ev('"^/ratings/[0-9]+".matches(request.url_path)'), true);
  assert.equal(ev('request.path.startsWith("/ratings")'), true);
  assert.equal(ev('startsWith(request.path, "/x")'), false);
  assert.equal(ev('source.ip == ip("127.0.0.1")'), true);
  assert.equal(ev('source.ip == ip("10.0.0.1")'), false);
  assert.equal(ev('request.time > timestamp("2020-01-01T00:00:00Z")'), true);
  assert.equal(ev('request.time < timestamp("2020-01-01T00:00:00Z")'), false);
  const bag = reportBag(record({ durationMs: 120 }));
  assert.equal(compileExpression('response.duration > duration("100ms")').evaluate(bag), true);
  assert.equal(compileExpression('response.duration <= duration("0.1s")').evaluate(bag), false);
  assert.equal(compileExpression('response.code >= 200 && response.code < 300').evaluate(bag), true);
  assert.equal(ev('toLower("ABC") == "abc" && !(1 == 2) && 3 != 4'), true);
});

test('syntax errors name the position; evaluation records exactly what was read', () => {
  assert.throws(() => compileExpression('destination.labels["app"] =='), (e: unknown) => e instanceof ExpressionError && e.code === 'MIXER_EXPR_SYNTAX' && /expected a value at 29/.test(e.message));
  assert.throws(() => compileExpression('nosuch(1)'), /unknown function nosuch/);
  assert.throws(() => compileExpression('"unterminated'), /unterminated string/);
  const bag = checkBag(req);
  compileExpression('source.labels["app"] == "nope" && request.headers["x-user"] == "john"').evaluate(bag);
  assert.deepEqual(bag.references(), ['source.labels[app]'], '&& short-circuits: the header was never read');
});
