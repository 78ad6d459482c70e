// Istio 1.1's bookinfo-policy samples, every file: loads without problems and decides as
// Istio's docs describe (the live versions run in test/integration/mixer-policy.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReq, newRuntime, peers, sample, sampleFiles } from './fixtures.js';
import { record } from './fixtures.js';

const skip = sampleFiles().length === 0 ? 'Istio 1.1 samples not present' : false;

test('every bookinfo-policy sample loads with no config problem', { skip }, () => {
  for (const f of sampleFiles()) {
    const { runtime } = newRuntime();
    const problems = runtime.apply(sample(f)!, f);
    assert.deepEqual(problems, [], `${f}: ${JSON.stringify(problems)}`);
    assert.ok((runtime.configz().rules as unknown[]).length >= 1, `${f} has a rule`);
  }
});

test('deny-label: reviews-v3 -> ratings is PERMISSION_DENIED with the handler message; v2 is allowed', { skip }, async () => {
  const { runtime } = newRuntime();
  runtime.apply(sample('mixer-rule-deny-label.yaml')!, 'v1');
  const denied = await runtime.check(checkReq(peers.reviewsV3, peers.ratings, 'ratings'));
  assert.equal(denied.allowed, false);
  assert.equal(denied.httpStatus, 403);
  assert.equal(denied.message, 'PERMISSION_DENIED:denyreviewsv3handler.denier.default:Not allowed');
  const allowed = await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings'));
  assert.equal(allowed.allowed, true);
  // The answer depended on these only (the rule lives in `default`, so the destination's
  // namespace is read too): the sidecar caches it under them.
  assert.deepEqual(allowed.referencedAttributes, ['destination.labels[app]', 'destination.service.namespace', 'source.labels[app]', 'source.labels[version]']);
  const other = await runtime.check(checkReq(peers.productpage, peers.details, 'details'));
  assert.equal(other.allowed, true);
  assert.deepEqual(other.referencedAttributes, ['destination.labels[app]', 'destination.service.namespace']);
});

test('deny-serviceaccount: productpage\'s service account is denied details; others are not', { skip }, async () => {
  const { runtime } = newRuntime();
  runtime.apply(sample('mixer-rule-deny-serviceaccount.yaml')!, 'v1');
  const denied = await runtime.check(checkReq(peers.productpage, peers.details, 'details'));
  assert.equal(denied.allowed, false);
  assert.equal(denied.message, 'PERMISSION_DENIED:denyproductpagehandler.denier.default:Not allowed');
  assert.equal((await runtime.check(checkReq(peers.reviewsV2, peers.details, 'details'))).allowed, true);
  assert.equal((await runtime.check(checkReq(peers.productpage, peers.reviewsV2, 'reviews'))).allowed, true);
});

test('ratings-denial and ingress-denial: an x-user header (and the gateway label) decide', { skip }, async () => {
  const { runtime } = newRuntime();
  runtime.apply(sample('mixer-rule-ratings-denial.yaml')!, 'v1');
  assert.equal((await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings', { 'x-user': 'john' }))).allowed, false);
  assert.equal((await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings', { 'x-user': 'jane' }))).allowed, true);
  const absent = await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings'));
  assert.equal(absent.allowed, true);
  assert.deepEqual(absent.referencedAttributes, ['request.headers[x-user]']);

  const ingress = newRuntime().runtime;
  ingress.apply(sample('mixer-rule-ingress-denial.yaml')!, 'v1');
  const viaGateway = await ingress.check(checkReq(peers.gateway, peers.productpage, 'productpage', { 'x-user': 'john' }));
  assert.equal(viaGateway.allowed, false);
  assert.equal(viaGateway.message, 'PERMISSION_DENIED:handler.denier.istio-system:Not allowed');
  assert.equal((await ingress.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings', { 'x-user': 'john' }))).allowed, true, 'not from the gateway');
});

test('productpage-ratelimit: 2 per 5 s for productpage (429 beyond, validity until the window frees), other services unbound', { skip }, async () => {
  let now = 1_000_000;
  const { runtime } = newRuntime({ now: () => now });
  runtime.apply(sample('mixer-rule-productpage-ratelimit.yaml')!, 'v1');
  const req = () => checkReq(peers.gateway, peers.productpage, 'productpage');
  const a = await runtime.check(req());
  assert.equal(a.allowed, true);
  assert.equal(a.validUseCount, 1, 'an answer that consumed quota is not reusable');
  assert.equal((await runtime.check(req())).allowed, true);
  const third = await runtime.check(req());
  assert.equal(third.allowed, false);
  assert.equal(third.httpStatus, 429);
  assert.equal(third.message, 'RESOURCE_EXHAUSTED:Quota is exhausted for: requestcount');
  assert.ok(third.validDurationMs > 0 && third.validDurationMs <= 5000, `denial valid ${third.validDurationMs} ms`);
  assert.ok(third.referencedAttributes!.includes('request.headers[x-forwarded-for]'));
  // Another source address is another quota bucket (the productpage override is per dimension set).
  assert.equal((await runtime.check(checkReq(peers.gateway, peers.productpage, 'productpage', { 'x-forwarded-for': '10.0.0.9' }))).allowed, true);
  // Reviews is not bound to the QuotaSpec: no quota applies.
  for (let i = 0; i < 5; i++) assert.equal((await runtime.check(checkReq(peers.productpage, peers.reviewsV2, 'reviews'))).allowed, true);
  now += 5001;
  assert.equal((await runtime.check(req())).allowed, true, 'the rolling window freed up');
});

test('ratings-ratelimit: the reviews -> ratings override (1/s) applies before the ratings one (100/s)', { skip }, async () => {
  let now = 5_000_000;
  const { runtime } = newRuntime({ now: () => now });
  runtime.apply(sample('mixer-rule-ratings-ratelimit.yaml')!, 'v1');
  assert.equal((await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings'))).allowed, true);
  assert.equal((await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings'))).allowed, false);
  // v3 is a different dimension set (sourceVersion) with the same override: its own bucket.
  assert.equal((await runtime.check(checkReq(peers.reviewsV3, peers.ratings, 'ratings'))).allowed, true);
  for (let i = 0; i < 20; i++) assert.equal((await runtime.check(checkReq(peers.productpage, peers.ratings, 'ratings'))).allowed, true);
  now += 1001;
  assert.equal((await runtime.check(checkReq(peers.reviewsV2, peers.ratings, 'ratings'))).allowed, true);
});

test('additional-telemetry: istio_double_request_count counts each request twice with the sample labels', { skip }, async () => {
  const { runtime, registry } = newRuntime();
  runtime.apply(sample('mixer-rule-additional-telemetry.yaml')!, 'v1');
  runtime.handleReport([record(), record({ reporter: 'source' })]);
  const text = await registry.metrics();
  assert.match(text, /istio_double_request_count\{reporter="server",source="productpage-v1",destination="reviews-v3",message="twice the fun!"\} 2/);
  assert.match(text, /istio_double_request_count\{reporter="client",source="productpage-v1",destination="reviews-v3",message="twice the fun!"\} 2/);
});

test('kubernetesenv-telemetry: kube_request_count with unknown defaults for attributes we do not have', { skip }, async () => {
  const { runtime, registry } = newRuntime();
  runtime.apply(sample('mixer-rule-kubernetesenv-telemetry.yaml')!, 'v1');
  runtime.handleReport([record({ responseCode: 503 })]);
  const text = await registry.metrics();
  assert.match(text, /istio_kube_request_count\{response_code="503",source_pod="productpage-v1",source_workload_uid="istio:\/\/default\/workloads\/productpage-v1",source_workload="productpage-v1",source_owner="kubernetes:\/\/apis\/apps\/v1\/namespaces\/default\/deployments\/productpage-v1",destination_pod="reviews-v3",destination_workload_uid="istio:\/\/default\/workloads\/reviews-v3",destination_workload="reviews-v3",destination_owner="kubernetes:\/\/apis\/apps\/v1\/namespaces\/default\/deployments\/reviews-v3",destination_container="unknown"\} 1/);
});

test('a config change replaces rules; an unchanged memquota handler keeps its window', { skip }, async () => {
  const { runtime } = newRuntime();
  const rl = sample('mixer-rule-productpage-ratelimit.yaml')!;
  runtime.apply(rl, 'v1');
  const req = () => checkReq(peers.gateway, peers.productpage, 'productpage');
  await runtime.check(req());
  await runtime.check(req());
  runtime.apply([...rl, ...sample('mixer-rule-deny-label.yaml')!], 'v2');
  assert.equal((await runtime.check(req())).allowed, false, 'the quota window survived the push');
  assert.equal((await runtime.check(checkReq(peers.reviewsV3, peers.ratings, 'ratings'))).allowed, false);
  runtime.apply([], 'v3');
  assert.equal((await runtime.check(checkReq(peers.reviewsV3, peers.ratings, 'ratings'))).allowed, true);
});
