// The benchmark harness's pure parts: wrk output parsing, the P4 write marker, profile areas,
// target evaluation. Nothing here times anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk } from '../../../bench/src/wrk.js';
import { markerOf } from '../../../bench/src/sim-proxies.js';
import { areaOf } from '../../../bench/src/profile.js';
import { evaluateTargets } from '../../../bench/src/report.js';
import type { ProxyConfig } from '#api';

const WRK = `Running 4s test @ http://127.0.0.1:41867/
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  500.00us  20.00ms   90.00%
  Latency Distribution
     50%  850.00us
     75%    1.10ms
     90%    2.50ms
     99%    1.20s
  111190 requests in 4.00s, 130.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  27797.50
Transfer/sec:     32.50MB
`;

test('wrk output: rps, request count, errors and percentiles in ms', () => {
  const r = parseWrk(WRK);
  assert.equal(r.rps, 27797.5);
  assert.equal(r.requests, 111190);
  assert.equal(r.errors, 6);
  assert.equal(r.non2xx, 7);
  assert.deepEqual(r.latencyMs, { p50: 0.85, p75: 1.1, p90: 2.5, p99: 1200 });
});

test('the P4 marker is the exact value of the x-bench-write route match, empty when absent', () => {
  const config = {
    routes: [{ name: '9080', virtualHosts: [{ name: 'sim', domains: ['sim'], routes: [
      { name: 'm', match: { path: { prefix: '/' }, headers: [{ name: 'x-bench-write', match: { exact: 'n100-w7' } }] }, action: { kind: 'route', clusters: [] } },
    ] }] }],
  } as unknown as ProxyConfig;
  assert.equal(markerOf(config), 'n100-w7');
  assert.equal(markerOf({ routes: [] } as unknown as ProxyConfig), '');
});

test('profile frames are attributed to the mesh area they belong to', () => {
  assert.equal(areaOf('file:///x/node_modules/http-proxy/lib/http-proxy/common.js', 'setupOutgoing'), 'http-proxy');
  assert.equal(areaOf('file:///x/dist/sidecar/src/layers/telemetry.js', 'buildRecord'), 'sidecar telemetry');
  assert.equal(areaOf('', '(garbage collector)'), 'gc');
  assert.equal(areaOf('node:_http_client', 'ClientRequest'), 'http (js side)');
});

test('targets: a missed target is reported as not met, a growth figure from a short run is not judged', () => {
  const checks = evaluateTargets({
    startedAt: '', mode: 'quick', machine: { cpus: 2, node: 'v20', loadAvgAtStart: [] },
    citadel: { signing: { certificates: 10, concurrency: 1, seconds: 1, certsPerSecond: 450, failures: 0 }, signingRsa: { certificates: 10, concurrency: 1, seconds: 1, certsPerSecond: 300, failures: 0 }, coldStart: { sidecars: 100, workers: 2, keyAlgorithm: 'ECDSA_P256', allCertifiedMs: 2500, firstCertifiedMs: 100 }, workloadSideMs: { ECDSA_P256: { keygen: 0.1, csrSign: 0.1 }, RSA_2048: { keygen: 100, csrSign: 1 } } },
  });
  assert.deepEqual(checks.map((c) => [c.what, c.met]), [['citadel certificates/s', true], ['100 sidecars certified (cold start)', false]]);
});
