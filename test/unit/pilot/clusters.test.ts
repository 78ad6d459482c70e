import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '#api';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { buildPushContext } from '../../../pilot/src/model/push-context.js';
import { bookinfoProxies, parseResources, registryOf, snapshotOf } from './bookinfo-model.js';

function clusters(yaml: string): Map<string, Cluster> {
  const proxies = bookinfoProxies();
  const push = buildPushContext(snapshotOf(parseResources(yaml)), registryOf(Object.values(proxies)));
  const cfg = generateProxyConfig(push, proxies.productpage);
  return new Map(cfg.clusters.map((c) => [c.name, c]));
}

const R = 'reviews.default.svc.cluster.local';

test('traffic policy: LEAST_CONN, subset override, outlier defaults from 1.1 consecutiveErrors, pool, DISABLE tls', () => {
  const c = clusters(`
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: LEAST_CONN }
    connectionPool: { tcp: { maxConnections: 1, connectTimeout: 2s }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } }
    outlierDetection: { consecutiveErrors: 1 }
  subsets:
  - name: v1
    labels: { version: v1 }
  - name: v2
    labels: { version: v2 }
    trafficPolicy:
      loadBalancer: { consistentHash: { httpHeaderName: End-User } }
      tls: { mode: DISABLE }
`);
  const base = c.get(`outbound|9080||${R}`)!;
  assert.equal(base.lbPolicy, 'LEAST_REQUEST');
  assert.deepEqual(base.outlier, { consecutive5xx: 1, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 });
  assert.deepEqual(base.connectionPool, { maxConnections: 1, connectTimeoutMs: 2000, maxPendingRequests: 1, maxRequestsPerConnection: 1 });
  assert.equal(base.connectTimeoutMs, 2000);
  assert.equal(base.tls.mode, 'ISTIO_MUTUAL');
  assert.equal(c.get(`outbound|9080|v1|${R}`)!.lbPolicy, 'LEAST_REQUEST');
  const v2 = c.get(`outbound|9080|v2|${R}`)!;
  assert.deepEqual(v2.consistentHash, { header: 'end-user' });
  assert.deepEqual(v2.tls, { mode: 'DISABLE' });
  assert.deepEqual(v2.outlier?.consecutive5xx, 1);
});

test('port-level settings apply to their port only', () => {
  const c = clusters(`
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: { simple: RANDOM }
    portLevelSettings:
    - port: { number: 9080 }
      outlierDetection: { consecutive5xxErrors: 7, interval: 1s }
`);
  const r = c.get('outbound|9080||ratings.default.svc.cluster.local')!;
  assert.equal(r.lbPolicy, 'RANDOM');
  assert.equal(r.outlier?.consecutive5xx, 7);
  assert.equal(r.outlier?.intervalMs, 1000);
});
