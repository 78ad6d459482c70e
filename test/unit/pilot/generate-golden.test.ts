import { test } from 'node:test';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { bookinfoPush } from './bookinfo-model.js';
import { assertGolden as assertGoldenText } from '../../support/golden.js';

const assertGolden = (name: string, value: unknown) => assertGoldenText(`pilot/${name}.json`, `${JSON.stringify(value, null, 2)}\n`);

test('golden: productpage sidecar (outbound to every service, inbound to its app)', () => {
  const { push, proxies } = bookinfoPush();
  assertGolden('productpage-sidecar', generateProxyConfig(push, proxies.productpage));
});

test('golden: reviews-v2 sidecar', () => {
  const { push, proxies } = bookinfoPush();
  assertGolden('reviews-v2-sidecar', generateProxyConfig(push, proxies.reviewsV2));
});

test('golden: ingress gateway with the bookinfo Gateway', () => {
  const { push, proxies } = bookinfoPush();
  const cfg = generateProxyConfig(push, proxies.gateway);
  // The clusters are the sidecars'; the golden keeps what is the gateway's own.
  assertGolden('ingressgateway', { node: cfg.node, listeners: cfg.listeners, routes: cfg.routes, clusterCount: cfg.clusters.length });
});
