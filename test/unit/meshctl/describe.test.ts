// `meshctl x describe` from a workload's generated config (no sockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { describeWorkload, formatDescription } from '../../../meshctl/src/commands/describe.js';
import { bookinfoPush } from '../pilot/bookinfo-model.js';

test('x describe names the DestinationRule, matching subsets, VirtualService and mTLS mode', () => {
  const { push, proxies } = bookinfoPush();
  const d = describeWorkload(proxies.reviewsV2.proxyId, generateProxyConfig(push, proxies.reviewsV2));
  assert.equal(d.workload, 'reviews-v2');
  const reviews = d.services.find((s) => s.service === 'reviews.default.svc.cluster.local');
  assert.ok(reviews, 'reviews is a service this workload backs');
  assert.equal(reviews.destinationRule, 'default/reviews');
  assert.deepEqual(reviews.matchingSubsets, ['v2']);
  assert.deepEqual(reviews.nonMatchingSubsets, ['v1', 'v3']);
  assert.deepEqual(reviews.virtualServices, [{ name: 'default/reviews', routes: 2 }]);
  assert.equal(d.services.length, 1, 'only the services it backs');
  const text = formatDescription(d, 'table');
  assert.match(text, /DestinationRule: default\/reviews for "reviews\.default\.svc\.cluster\.local"/);
  assert.match(text, /Matching subsets: v2\n\s+\(Non-matching subsets v1,v3\)/);
  assert.match(text, /VirtualService: default\/reviews\n\s+2 HTTP route\(s\)/);
  assert.match(text, /Inbound mTLS: (STRICT|PERMISSIVE)/);
});
