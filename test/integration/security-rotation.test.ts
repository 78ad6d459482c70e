// Issue 5 point 2: certificates rotate under load without a failed request, and a root rotation
// (new root added to every bundle, workloads moved to it one by one, old root retired) too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spiffeId } from '#api';
import { PolicyMesh } from '../support/policy-mesh.js';
import { createTestCa, issueLeaf } from '../support/certs.js';
import { waitFor } from '../support/wait.js';

const mesh = new PolicyMesh();
const clientId = spiffeId('default', 'bookinfo-productpage');
const serverId = spiffeId('default', 'bookinfo-reviews');

before(async () => {
  await mesh.start();
  // No mixer: policy checks fail open, so only TLS decides whether a request succeeds.
  await mesh.add({ name: 'productpage-v1', sa: 'bookinfo-productpage', labels: { app: 'productpage', version: 'v1' }, failOpen: true });
  await mesh.add({ name: 'reviews-v1', sa: 'bookinfo-reviews', labels: { app: 'reviews', version: 'v1' }, service: 'reviews', failOpen: true });
  await mesh.pushRoutes();
});

after(() => mesh.stop());

/** Keeps `workers` requests in flight until stopped; records every status. */
function load(workers: number) {
  const statuses: (number | string)[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      try { statuses.push((await mesh.call('productpage-v1', 'reviews', `/load/${w}/${i}`)).status); } catch (err) { statuses.push((err as Error).message); }
    }
  });
  return { statuses, async stop() { running = false; await Promise.all(loops); } };
}

test('workload and root certificates rotate under load with no failed request', async (t) => {
  const client = mesh.members.get('productpage-v1')!.identity;
  const server = mesh.members.get('reviews-v1')!.identity;
  assert.equal((await mesh.call('productpage-v1', 'reviews', '/warm')).status, 200);
  const newRoot = createTestCa('test mesh root 2');
  const l = load(4);
  const progress = async () => { const n = l.statuses.length; await waitFor(() => l.statuses.length >= n + 20, { timeoutMs: 30_000, what: 'requests flowing' }); };
  try {
    await progress();
    // Ordinary rotations: new keys and certificates from the same root, both sides, repeatedly.
    for (let r = 0; r < 3; r++) {
      server.rotate(issueLeaf(mesh.ca, serverId));
      await progress();
      client.rotate(issueLeaf(mesh.ca, clientId));
      await progress();
    }
    // Root rotation: both roots trusted everywhere, then each workload moves to the new root,
    // then the old root is retired.
    server.rotate(issueLeaf(mesh.ca, serverId, { extraRootsPem: newRoot.certPem }));
    client.rotate(issueLeaf(mesh.ca, clientId, { extraRootsPem: newRoot.certPem }));
    await progress();
    server.rotate(issueLeaf(newRoot, serverId, { extraRootsPem: mesh.ca.certPem }));
    await progress();
    client.rotate(issueLeaf(newRoot, clientId, { extraRootsPem: mesh.ca.certPem }));
    await progress();
    server.rotate(issueLeaf(newRoot, serverId));
    client.rotate(issueLeaf(newRoot, clientId));
    await progress();
  } finally {
    await l.stop();
  }
  const failed = l.statuses.filter((s) => s !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${l.statuses.length} requests failed`);
  assert.ok(l.statuses.length >= 200, `${l.statuses.length} requests`);
  t.diagnostic(`${l.statuses.length} requests during 6 workload rotations per side and a root rotation, none failed`);
  // After retirement a client certificate from the old root is refused by the server (fails
  // closed), though the client itself trusts the new root.
  client.rotate({ ...issueLeaf(mesh.ca, clientId), rootsPem: newRoot.certPem });
  await waitFor(async () => (await mesh.call('productpage-v1', 'reviews', '/old-root')).status !== 200, { timeoutMs: 10_000, what: 'old root refused' });
});
