// redisquota against a real Redis (Debian's redis-server; skipped when absent): a fixed
// window shared through Redis, and when Redis dies the requests are allowed, never 429
// (istio/istio#12115).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort, waitFor } from '../support/wait.js';
import { checkReq, newRuntime, peers, resourcesFromYaml } from '../unit/mixer/fixtures.js';

const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasRedis ? false : 'no redis-server binary (apt-get install -y redis-server)';
let redis: ChildProcess | undefined;
let port: number;

before(async () => {
  if (skip) return;
  port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => new Promise<boolean>((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); }), { timeoutMs: 10_000, what: 'redis' });
});

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null || redis.signalCode !== null) return;
  const exited = new Promise((r) => redis!.once('exit', r));
  redis.kill('SIGKILL');
  await exited;
}
after(stopRedis);

test('redisquota limits through Redis; with Redis down every request is allowed and the errors are counted', { skip }, async () => {
  const { runtime, registry } = newRuntime();
  runtime.apply(resourcesFromYaml(`
apiVersion: config.istio.io/v1alpha2
kind: handler
metadata: { name: redishandler, namespace: istio-system }
spec:
  compiledAdapter: redisquota
  params:
    redisServerUrl: 127.0.0.1:${port}
    quotas:
    - name: requestcount.quota.istio-system
      maxAmount: 3
      validDuration: 60s
      rateLimitAlgorithm: FIXED_WINDOW
---
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata: { name: requestcount, namespace: istio-system }
spec:
  compiledTemplate: quota
  params:
    dimensions:
      destination: destination.labels["app"] | "unknown"
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: { name: quota, namespace: istio-system }
spec:
  actions: [ { handler: redishandler, instances: [ requestcount ] } ]
---
apiVersion: config.istio.io/v1alpha2
kind: QuotaSpec
metadata: { name: request-count, namespace: istio-system }
spec: { rules: [ { quotas: [ { charge: 1, quota: requestcount } ] } ] }
---
apiVersion: config.istio.io/v1alpha2
kind: QuotaSpecBinding
metadata: { name: request-count, namespace: istio-system }
spec:
  quotaSpecs: [ { name: request-count, namespace: istio-system } ]
  services: [ { name: productpage, namespace: default } ]
`), 'v1');
  const ask = () => runtime.check(checkReq(peers.gateway, peers.productpage, 'productpage'));
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await ask());
  assert.deepEqual(answers.map((a) => a.allowed), [true, true, true, false, false]);
  assert.equal(answers[3]!.httpStatus, 429);
  assert.ok(answers[3]!.validDurationMs > 0 && answers[3]!.validDurationMs <= 60_000);
  await stopRedis();
  for (let i = 0; i < 5; i++) {
    const a = await ask();
    assert.equal(a.allowed, true, `request ${i} with Redis down`);
    assert.equal(a.validUseCount, 1, 'not cached: the next request asks again');
  }
  assert.match(await registry.metrics(), /mixer_quota_backend_errors_total\{handler="redishandler.handler.istio-system"\} 5/);
  await runtime.close();
});
