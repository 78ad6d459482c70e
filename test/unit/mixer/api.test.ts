import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from '#api';
import { buildMetricsServer, buildMixerApi } from '../../../mixer/src/api.js';
import { ReportIngest } from '../../../mixer/src/report.js';
import { CheckEngine } from '../../../mixer/src/check.js';
import { PrometheusAdapter } from '../../../mixer/src/adapters/prometheus.js';
import { newRuntime, record } from './fixtures.js';

const log = createLogger('mixer-test', 'silent');

function build(ready: boolean) {
  const registry = new Registry();
  const adapters = [new PrometheusAdapter({ registry })];
  const api = buildMixerApi({
    ingest: new ReportIngest({ adapters, registry, log }),
    checks: new CheckEngine({ registry, runtime: newRuntime({ registry }).runtime, log }),
    adapters, log, maxReportBytes: 1024 * 1024,
    readiness: () => (ready ? { ready } : { ready, detail: 'not connected to the bus' }),
  });
  return { api, metrics: buildMetricsServer({ registry, log }) };
}

test('/ready is 503 with a reason until the bus is up', async () => {
  const { api } = build(false);
  const res = await api.inject({ method: 'GET', url: '/ready' });
  assert.equal(res.statusCode, 503);
  assert.deepEqual(res.json(), { component: 'mixer', ready: false, detail: 'not connected to the bus' });
  await api.close();
});

test('a report over HTTP is visible in the metrics text', async () => {
  const { api, metrics } = build(true);
  const res = await api.inject({ method: 'POST', url: '/report', payload: { proxyId: 'p', records: [record()], dropped: 0 } });
  assert.equal(res.statusCode, 200);
  const text = (await metrics.inject({ method: 'GET', url: '/metrics' })).body;
  assert.match(text, /istio_requests_total\{reporter="destination",.*destination_version="v3".*response_code="200".*\} 1/);
  assert.match(text, /istio_request_bytes_bucket\{le="1",.*\} 1/);
  await Promise.all([api.close(), metrics.close()]);
});
