import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapToken, type CsrRequest } from '#api';
import { attestorFor, dockerAttestor, parseComposeProxyId, tokenAttestor, type ContainerInspector } from '../../../citadel/src/attest.js';
import { CitadelError } from '../../../citadel/src/errors.js';

const req = (over: Partial<CsrRequest> = {}): CsrRequest => ({
  proxyId: 'reviews-v1-abcde.default', csrPem: 'x', namespace: 'default', serviceAccount: 'bookinfo-reviews', ...over,
});

test('token attestation accepts the token derived for the identity and refuses anything else', async () => {
  const a = tokenAttestor('s3cret');
  const good = bootstrapToken('s3cret', 'default', 'bookinfo-reviews');
  assert.match(good, /^[A-Za-z0-9_-]{43}$/, 'base64url of a SHA-256 HMAC');
  assert.deepEqual(await a.attest(req({ token: good })), { ok: true });
  const other = await a.attest(req({ token: good, serviceAccount: 'bookinfo-ratings' }));
  assert.equal(other.ok, false, 'a token is only valid for its own service account');
  assert.equal((await a.attest(req({ token: bootstrapToken('wrong', 'default', 'bookinfo-reviews') }))).ok, false);
  assert.equal((await a.attest(req({ token: good.slice(0, 10) }))).ok, false);
  assert.equal((await a.attest(req())).ok, false, 'no token');
  assert.equal((await a.attest(req({ token: good, namespace: 'prod' }))).ok, false);
});

test('token mode without a secret refuses to start', () => {
  assert.throws(
    () => attestorFor('token', { bootstrapSecret: '', dockerSocket: '/x', makeInspector: () => { throw new Error('unused'); } }),
    (err: unknown) => err instanceof CitadelError && err.code === 'CA_CONFIG_INVALID' && /MESH_CITADEL_BOOTSTRAP_SECRET/.test(err.message),
  );
  assert.equal(attestorFor('none', { bootstrapSecret: '', dockerSocket: '/x', makeInspector: () => { throw new Error('unused'); } }).kind, 'none');
});

test('compose proxy ids split into workload, container id and namespace', () => {
  assert.deepEqual(parseComposeProxyId('reviews-v1-3f2a9c0d1b7e.default'), { workload: 'reviews-v1', containerId: '3f2a9c0d1b7e', namespace: 'default' });
  assert.equal(parseComposeProxyId('reviews-v1-abcde.default'), undefined, 'random suffix is not a container id');
  assert.equal(parseComposeProxyId('reviews-v1-3f2a9c0d1b7e'), undefined, 'no namespace');
});

test('docker attestation checks the container labels named by the proxy id', async () => {
  const containers: Record<string, { labels: Record<string, string>; running: boolean }> = {
    '3f2a9c0d1b7e': { labels: { 'mesh.serviceaccount': 'bookinfo-reviews', 'mesh.workload': 'reviews-v1' }, running: true },
    'aaaaaaaaaaaa': { labels: { 'mesh.serviceaccount': 'bookinfo-reviews' }, running: false },
    'bbbbbbbbbbbb': { labels: { 'mesh.serviceaccount': 'bookinfo-reviews', 'mesh.namespace': 'prod' }, running: true },
  };
  const inspector: ContainerInspector = { inspect: async (id) => containers[id] };
  const a = dockerAttestor(inspector);
  assert.deepEqual(await a.attest(req({ proxyId: 'reviews-v1-3f2a9c0d1b7e.default' })), { ok: true });
  const cases: [Partial<CsrRequest>, RegExp][] = [
    [{ proxyId: 'reviews-v1-3f2a9c0d1b7e.default', serviceAccount: 'bookinfo-ratings' }, /mesh\.serviceaccount=bookinfo-reviews, not bookinfo-ratings/],
    [{ proxyId: 'ratings-v1-3f2a9c0d1b7e.default' }, /is workload reviews-v1/],
    [{ proxyId: 'reviews-v1-aaaaaaaaaaaa.default' }, /not running/],
    [{ proxyId: 'reviews-v1-bbbbbbbbbbbb.default' }, /mesh\.namespace=prod/],
    [{ proxyId: 'reviews-v1-cccccccccccc.default' }, /no container/],
    [{ proxyId: 'reviews-v1-3f2a9c0d1b7e.prod' }, /differs from requested namespace/],
    [{ proxyId: 'reviews-v1-xyz.default' }, /is not <workload>/],
  ];
  for (const [over, why] of cases) {
    const r = await a.attest(req(over));
    assert.equal(r.ok, false, JSON.stringify(over));
    assert.match((r as { reason: string }).reason, why);
  }
  const broken = dockerAttestor({ inspect: async () => { throw new Error('connect ENOENT /var/run/docker.sock'); } });
  const r = await broken.attest(req({ proxyId: 'reviews-v1-3f2a9c0d1b7e.default' }));
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /ENOENT/);
});
