// The sidecar's policy client over a real nats-server: right after a bus or mixer restart the
// bus answers "no responders" until mixer has subscribed again; the client asks again within
// its check timeout instead of failing every request of that window (issue 9's nats-server
// restart under load).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, createLogger, subjects, type Bus, type CheckRequest, type CheckResponse } from '#api';
import { PolicyClient } from '../../sidecar/src/policy/check-client.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';

const log = createLogger('policy-client-test', 'silent');
let nats: NatsServer;
let sidecarBus: Bus;
let mixerBus: Bus;

const peer = { workload: 'sleep', namespace: 'default', app: 'sleep', version: 'v1', principal: 'spiffe://cluster.local/ns/default/sa/sleep' };
const request = (path: string): CheckRequest => ({
  proxyId: 'httpbin-v1-abcde.default', source: peer,
  destination: { ...peer, workload: 'httpbin-v1', app: 'httpbin', service: 'httpbin.default.svc.cluster.local', serviceName: 'httpbin', serviceNamespace: 'default' },
  request: { method: 'GET', path }, reporterKind: 'inbound',
});

before(async () => {
  nats = await startNats();
  sidecarBus = await connectBus({ servers: nats.url, name: 'sidecar', log });
  mixerBus = await connectBus({ servers: nats.url, name: 'mixer', log });
});

after(async () => {
  await sidecarBus.close();
  await mixerBus.close();
  await nats.stop();
});

test('a check asked before mixer subscribes is answered by mixer once it does, within the timeout', async () => {
  const client = new PolicyClient({ bus: sidecarBus, failOpen: false, timeoutMs: 5000, cacheSize: 100, retryAfterMs: 1000, log });
  const decision = client.ask(request('/first'));
  await waitFor(() => client.totals.noResponderRetries >= 1, { timeoutMs: 5000, what: 'a no-responders retry' });
  const sub = mixerBus.subscribe<CheckRequest>(subjects.policyCheck, (m) => {
    m.respond({ allowed: true, validDurationMs: 60_000, validUseCount: 100 } satisfies CheckResponse);
  });
  try {
    assert.deepEqual(await decision, { allowed: true, via: 'mixer' });
    assert.equal(client.totals.failClosed, 0);
    assert.equal(client.totals.errors, 0);
  } finally {
    sub.unsubscribe();
  }
});

test('with no mixer at all the fail policy decides once the timeout has passed, not before', async () => {
  const client = new PolicyClient({ bus: sidecarBus, failOpen: false, timeoutMs: 400, cacheSize: 100, retryAfterMs: 1000, log });
  const started = performance.now();
  const decision = await client.ask(request('/nobody'));
  assert.equal(decision.allowed, false);
  assert.equal(decision.via, 'fail-closed');
  assert.ok(client.totals.noResponderRetries >= 1, 'it asked again while time was left');
  assert.ok(performance.now() - started >= 300, 'it kept asking for most of its timeout');
  assert.equal(client.totals.errors, 1);
});
