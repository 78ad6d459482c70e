// meshctl top, version and dashboard, and `-o short` everywhere: output against golden files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { buildTop, formatTop, parseGrouping, type EdgesBody, type EdgeStat } from '../../../meshctl/src/commands/top.js';
import { formatVersion, clientVersion } from '../../../meshctl/src/commands/version.js';
import { dashboardUrl, formatDashboard, parseDashboard } from '../../../meshctl/src/commands/dashboard.js';
import { formatProxyStatus } from '../../../meshctl/src/commands/proxy-status.js';
import { formatStatus } from '../../../meshctl/src/commands/status.js';
import { defaultEndpoints } from '../../../meshctl/src/endpoints.js';
import { assertGolden } from '../../support/golden.js';

const host = (s: string) => `${s}.default.svc.cluster.local`;
const end = (workload: string) => ({ workload, namespace: 'default', app: workload.split('-')[0]!, version: workload.split('-').pop()! });
function edge(from: string, to: string, service: string, over: Partial<EdgeStat> = {}): EdgeStat {
  return { source: end(from), destination: { ...end(to), service: host(service), serviceName: service }, protocol: 'http', reporter: 'source', rps: 2, errorRate: 0, clientErrorRate: 0,
    p50Ms: 12.5, p99Ms: 48, windowRequests: 60, totalRequests: 60, totalErrors: 0, mtls: 1, codes: { '200': 60 }, lastSeen: '2026-01-01T00:00:00.000Z', ...over };
}
const body: EdgesBody = {
  windowSeconds: 30,
  generatedAt: '2026-01-01T00:00:00.000Z',
  edges: [
    edge('istio-ingressgateway', 'productpage-v1', 'productpage', { p50Ms: 55, p99Ms: 310 }),
    edge('productpage-v1', 'details-v1', 'details', { p50Ms: 6.25, p99Ms: 20 }),
    edge('productpage-v1', 'reviews-v1', 'reviews', { rps: 0.66, windowRequests: 20, p50Ms: 8, p99Ms: 30 }),
    edge('productpage-v1', 'reviews-v2', 'reviews', { rps: 0.67, windowRequests: 20, p50Ms: 20, p99Ms: 95, errorRate: 0.1 }),
    edge('productpage-v1', 'reviews-v3', 'reviews', { rps: 0.67, windowRequests: 20, p50Ms: 22, p99Ms: 80 }),
    edge('reviews-v2', 'ratings-v1', 'ratings', { rps: 0.67, windowRequests: 20, mtls: 0.5 }),
  ],
};

test('top: per service rate, success, p50/p99 (golden), by workload and by edge', () => {
  const top = buildTop(body);
  assertGolden('meshctl/top.txt', formatTop(top, 'table'));
  const reviews = top.rows.find((r) => r.name === 'reviews.default')!;
  assert.equal(reviews.rps, 2);
  assert.equal(reviews.errorRate, 0.0333);
  assert.equal(reviews.p50Ms, 16.667, 'request-weighted p50');
  assert.equal(reviews.p99Ms, 95, 'worst p99');
  assert.equal(top.rows.find((r) => r.name === 'ratings.default')!.mtls, false);
  assertGolden('meshctl/top-workload.txt', formatTop(buildTop(body, 'workload'), 'table'));
  assertGolden('meshctl/top-edge-short.txt', formatTop(buildTop(body, 'edge'), 'short'));
  assert.deepEqual(JSON.parse(formatTop(top, 'json')), JSON.parse(JSON.stringify(top)));
  assert.equal(formatTop(top, 'yaml'), stringify(top));
  assert.equal(formatTop(buildTop({ windowSeconds: 30, generatedAt: body.generatedAt, edges: [] }), 'table'), 'no traffic in the last 30s\n');
  assert.throws(() => parseGrouping('pod'), /use service, workload or edge/);
});

test('version: client and each component (golden); short is the client version only', () => {
  const report = {
    client: { version: '0.1.0', node: 'v20.19.0' },
    mesh: [
      { component: 'galley', url: 'http://127.0.0.1:9901', reachable: true, ready: true },
      { component: 'pilot', url: 'http://127.0.0.1:15014', reachable: true, ready: true, version: '5c776fc3bd9d87a8' },
      { component: 'citadel', url: 'http://127.0.0.1:8060', reachable: true, ready: false },
      { component: 'mixer', url: 'http://127.0.0.1:9091', reachable: false, ready: false },
    ],
  };
  assertGolden('meshctl/version.txt', formatVersion(report, 'table'));
  assert.equal(formatVersion(report, 'short'), '0.1.0\n');
  assert.equal(JSON.parse(formatVersion(report, 'json')).mesh.length, 4);
  assert.match(clientVersion(), /^\d+\.\d+\.\d+/, 'read from the root package.json');
});

test('dashboard: console by default, prometheus on request, URLs follow the port offset', () => {
  const ep = defaultEndpoints({ MESH_PORT_OFFSET: '1000' });
  assert.equal(formatDashboard(dashboardUrl(ep, parseDashboard(undefined)), 'table'), 'console: http://127.0.0.1:21001/\n');
  assert.equal(formatDashboard(dashboardUrl(ep, parseDashboard('prometheus')), 'short'), 'http://127.0.0.1:10090/graph\n');
  assert.deepEqual(JSON.parse(formatDashboard(dashboardUrl(defaultEndpoints({ MESH_CONSOLE_URL: 'http://console:20001' }), 'console'), 'json')), { name: 'console', url: 'http://console:20001/' });
  assert.throws(() => parseDashboard('kiali'), /use console or prometheus/);
});

test('-o short on status and proxy-status (golden)', () => {
  const rows = [
    { proxy: 'reviews-v1-x1.default', workload: 'reviews-v1', status: 'SYNCED' as const },
    { proxy: 'ratings-v1-x2.default', workload: 'ratings-v1', status: 'NACKED' as const, error: 'bad' },
  ];
  const status = formatStatus({
    components: [{ component: 'galley', url: 'u', healthy: true }, { component: 'pilot', url: 'u', healthy: false }],
    proxies: { total: 2, byStatus: { SYNCED: 1, NACKED: 1 } },
    config: { version: 'abc', files: 3, invalid: [{ file: 'broken.yaml', messages: [] }] },
  }, 'short');
  assertGolden('meshctl/short.txt', `${formatProxyStatus(rows, 'short')}---\n${status}`);
});

test('certs: the newest certificate per proxy, expiry and rotation (golden)', async () => {
  const { buildCerts, formatCerts } = await import('../../../meshctl/src/commands/certs.js');
  const r = buildCerts([
    { serial: '0B', spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', proxyId: 'reviews-v1-a.default', notBefore: '2026-01-01T06:00:00.000Z', notAfter: '2026-01-02T06:00:00.000Z', issuedAt: '' },
    { serial: '0A', spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews', proxyId: 'reviews-v1-a.default', notBefore: '2025-12-31T06:00:00.000Z', notAfter: '2026-01-01T06:00:00.000Z', issuedAt: '' },
    { serial: '0C', spiffeId: 'spiffe://cluster.local/ns/default/sa/sleep', proxyId: 'sleep-b.default', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-01T13:00:00.000Z', issuedAt: '' },
  ], { trustDomain: 'cluster.local', signingRoot: { subject: 'O=cluster.local' } }, new Date('2026-01-01T12:00:00.000Z'));
  assert.equal(r.certs.find((c) => c.proxy === 'reviews-v1-a.default')!.issued, 2);
  assertGolden('meshctl/certs.txt', formatCerts(r, 'table'));
  assert.equal(formatCerts(r, 'short', 'sleep'), 'sleep-b.default spiffe://cluster.local/ns/default/sa/sleep 1h0m\n');
});
