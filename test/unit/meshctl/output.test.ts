import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProxyConfig } from '../../../meshctl/src/commands/proxy-config.js';
import { formatProxyStatus } from '../../../meshctl/src/commands/proxy-status.js';
import { formatStatus, formatMessage } from '../../../meshctl/src/commands/status.js';
import { parseFormat } from '../../../meshctl/src/output.js';
import { assertGolden } from '../../support/golden.js';
import type { ProxyConfig } from '#api';

const config: ProxyConfig = {
  node: { id: 'productpage-v1-abcde.default', kind: 'sidecar', workload: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage', labels: { app: 'productpage', version: 'v1' } },
  outboundTrafficPolicy: 'ALLOW_ANY',
  listeners: [
    { name: 'virtualOutbound', kind: 'outbound', port: 15001, protocol: 'HTTP' },
    { name: 'virtualInbound', kind: 'inbound', port: 15006, protocol: 'HTTP', mtlsMode: 'STRICT' },
  ],
  routes: [{
    name: '9080',
    virtualHosts: [{
      name: 'reviews.default.svc.cluster.local:9080',
      domains: ['reviews.default.svc.cluster.local', 'reviews', 'reviews:9080'],
      routes: [
        { name: 'jason', match: { path: { prefix: '/' }, headers: [{ name: 'end-user', match: { exact: 'jason' } }] }, action: { kind: 'route', clusters: [{ name: 'outbound|9080|v2|reviews.default.svc.cluster.local', weight: 100 }] }, origin: { virtualService: 'default/reviews', index: 0 } },
        { name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'route', clusters: [{ name: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 100 }] }, origin: { virtualService: 'default/reviews', index: 1 } },
      ],
    }],
  }],
  clusters: [
    { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', type: 'EDS', service: 'reviews.default.svc.cluster.local', port: 9080, subset: 'v1', protocol: 'HTTP', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 10000, tls: { mode: 'ISTIO_MUTUAL' } },
    { name: 'inbound|9080||', type: 'STATIC', port: 9080, protocol: 'HTTP', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 10000, tls: { mode: 'DISABLE' } },
  ],
  endpoints: [{ cluster: 'outbound|9080|v1|reviews.default.svc.cluster.local', endpoints: [{ address: '127.0.0.1', port: 15126, healthy: true }] }],
};

test('proxy-config tables match istioctl columns (golden)', () => {
  assertGolden('meshctl/proxy-config-all.txt', formatProxyConfig('all', config, 'table'));
  assert.deepEqual(JSON.parse(formatProxyConfig('cluster', config, 'json')), config.clusters);
});

test('proxy-status table and JSON (golden)', () => {
  const rows = [
    { proxy: 'reviews-v1-x1.default', workload: 'reviews-v1', status: 'SYNCED' as const, version: 'a1b2c3', inbound: '127.0.0.1:15126' },
    { proxy: 'ratings-v1-x2.default', workload: 'ratings-v1', status: 'NACKED' as const, version: 'd4e5f6', inbound: '127.0.0.1:15156', error: 'cluster outbound|9080|v9|ratings not found' },
  ];
  assertGolden('meshctl/proxy-status.txt', formatProxyStatus(rows, 'table'));
  assert.equal(JSON.parse(formatProxyStatus(rows, 'json')).length, 2);
});

test('status names invalid files with file:line in Istio message format', () => {
  const msg = { code: 'IST0106', level: 'Error' as const, message: 'Schema validation error: weight must be at most 100', resource: 'VirtualService default/broken', file: 'broken.yaml', line: 12 };
  assert.equal(formatMessage(msg), 'Error [IST0106] (VirtualService default/broken broken.yaml:12) Schema validation error: weight must be at most 100');
  const out = formatStatus({
    components: [{ component: 'galley', url: 'http://127.0.0.1:9901', healthy: true }, { component: 'pilot', url: 'http://127.0.0.1:15014', healthy: false, detail: 'unreachable' }],
    proxies: { total: 3, byStatus: { SYNCED: 2, STALE: 1 } },
    config: { version: 'abc', files: 4, invalid: [{ file: 'broken.yaml', messages: [msg] }] },
  }, 'table');
  assertGolden('meshctl/status.txt', out);
  assert.throws(() => parseFormat('xml'), /unknown output format/);
});
