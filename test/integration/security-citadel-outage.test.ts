// Issue 5 point 2 (rotation edge cases): while citadel is down the current certificate keeps
// serving and renewal retries with growing intervals (visible in the identity status the
// sidecar's admin serves); citadel back, renewal succeeds. After expiry the workload fails
// closed: a peer refuses its expired certificate. Citadel in-process on a real nats-server,
// real TLS handshakes with the certificates it issues.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { bootstrapToken, connectBus, createLogger, type Bus } from '#api';
import { tokenAttestor } from '../../citadel/src/attest.js';
import { attachCitadelBus, type CitadelBus } from '../../citadel/src/bus.js';
import { CertificateAuthority } from '../../citadel/src/ca.js';
import { Inventory } from '../../citadel/src/inventory.js';
import { createIssuer, type Issuer } from '../../citadel/src/issue.js';
import { loadOrCreateRoot } from '../../citadel/src/root.js';
import { createIdentityManager, peerSpiffeId, tlsCredentials, type IdentityManager, type WorkloadIdentity } from '../../sidecar/src/identity/index.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'outage-secret';
const log = createLogger('test', 'silent');
let nats: NatsServer;
let dir: string;
let ca: CertificateAuthority;
let issue: Issuer;
let citadelConn: Bus;
let workloadConn: Bus;
let citadel: CitadelBus | undefined;
const managers: IdentityManager[] = [];
const servers: tls.Server[] = [];

const citadelUp = () => { citadel ??= attachCitadelBus({ bus: citadelConn, issue, trustBundle: () => ca.trustBundle(), log }); return citadelConn.flush(); };
const citadelDown = () => { citadel?.stop(); citadel = undefined; return citadelConn.flush(); };

function manager(sa: string, ttlSeconds: number): IdentityManager {
  const m = createIdentityManager({
    bus: workloadConn, proxyId: `${sa}-outag.default`, namespace: 'default', serviceAccount: sa,
    token: bootstrapToken(SECRET, 'default', sa), ttlSeconds, log, retryInitialMs: 100, retryMaxMs: 800, requestTimeoutMs: 1000,
  });
  managers.push(m);
  return m;
}

/** An mTLS server (as the sidecar's inbound: requestCert, rejectUnauthorized) naming each client. */
async function mtlsServer(id: WorkloadIdentity): Promise<{ port: number; refused: Error[]; served: string[] }> {
  const refused: Error[] = [];
  const served: string[] = [];
  const server = tls.createServer({ ...tlsCredentials(id), requestCert: true, rejectUnauthorized: true }, (sock) => {
    const who = peerSpiffeId(sock.getPeerCertificate()) ?? 'anonymous';
    served.push(who);
    sock.end(who);
  });
  server.on('tlsClientError', (err) => refused.push(err));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, refused, served };
}

function call(port: number, id: WorkloadIdentity): Promise<{ data: string; error?: Error }> {
  return new Promise((resolve) => {
    let data = '';
    let error: Error | undefined;
    const sock = tls.connect({ host: '127.0.0.1', port, ...tlsCredentials(id), checkServerIdentity: () => undefined });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => { data += d; });
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => resolve({ data, error }));
  });
}

before(async () => {
  nats = await startNats();
  dir = mkdtempSync(join(tmpdir(), 'citadel-outage-'));
  const roots = await loadOrCreateRoot({ dataDir: join(dir, 'ca'), trustDomain: 'cluster.local', rootTtlDays: 3650, log });
  ca = new CertificateAuthority(roots.signing, 'cluster.local', roots.extra);
  issue = createIssuer({ ca, attestor: tokenAttestor(SECRET), inventory: new Inventory(100), log, ttlDefaultSeconds: 3600, ttlMaxSeconds: 86_400 });
  citadelConn = await connectBus({ servers: nats.url, name: 'citadel', log });
  workloadConn = await connectBus({ servers: nats.url, name: 'workloads', log });
  await citadelUp();
});

after(async () => {
  for (const m of managers) m.stop();
  citadel?.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await workloadConn?.close();
  await citadelConn?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('citadel down: the certificate keeps serving, renewal backs off 100, 200, 400, 800 ms; citadel back: renewed', { timeout: 60_000 }, async (t) => {
  const m = manager('bookinfo-reviews', 8);
  const first = await m.start();
  const peer = await mtlsServer(await manager('bookinfo-productpage', 3600).start());
  await citadelDown();
  // Renewal is due at 50 % +-10 % of the 8 s life; then it fails and backs off.
  const status = await waitFor(() => {
    const s = m.status();
    return (s.renewalFailures ?? 0) >= 5 ? s : undefined;
  }, { timeoutMs: 20_000, intervalMs: 50, what: 'five failed renewals' });
  t.diagnostic(`retry delays while citadel is down: ${JSON.stringify(status.retryDelaysMs)}; last error: ${status.lastError}`);
  assert.deepEqual(status.retryDelaysMs?.slice(0, 5), [100, 200, 400, 800, 800], 'exponential backoff up to its cap');
  assert.match(status.lastError ?? '', /CITADEL_UNREACHABLE/);
  // The current certificate still serves: same serial, handshakes succeed.
  assert.equal(status.serial, first.serial);
  assert.equal(m.current()?.serial, first.serial);
  assert.equal(status.expired, false);
  assert.equal((await call(peer.port, m.current()!)).data, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');

  await citadelUp();
  const renewed = await waitFor(() => (m.current()?.serial !== first.serial ? m.current() : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'renewal once citadel is back' });
  const after = m.status();
  assert.equal(after.renewalFailures, 0);
  assert.equal(after.lastError, undefined);
  assert.equal(after.retryDelaysMs, undefined);
  assert.ok(renewed!.notAfter.getTime() > first.notAfter.getTime());
  assert.equal((await call(peer.port, renewed!)).data, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
});

test('citadel down past expiry: the workload fails closed, a peer refuses its expired certificate', { timeout: 60_000 }, async (t) => {
  await citadelUp();
  const m = manager('bookinfo-ratings', 3);
  const first = await m.start();
  const peer = await mtlsServer(await manager('bookinfo-details', 3600).start());
  assert.equal((await call(peer.port, first)).data, 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings', 'accepted while valid');
  await citadelDown();
  await waitFor(() => m.status().expired === true, { timeoutMs: 15_000, intervalMs: 100, what: 'the certificate expires while citadel is down' });
  const status = m.status();
  t.diagnostic(`expired at ${status.notAfter}; ${status.renewalFailures} failed renewals`);
  assert.equal(status.serial, first.serial, 'no new certificate without citadel');
  const before = peer.refused.length;
  const servedBefore = peer.served.length;
  const r = await call(peer.port, m.current()!);
  assert.notEqual(r.data, 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings', 'the expired certificate was accepted');
  const why = (e: Error | undefined) => (e ? `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}` : 'no error');
  t.diagnostic(`client saw: ${why(r.error)}; peer saw: ${JSON.stringify(peer.refused.slice(before).map(why))}`);
  await waitFor(() => peer.refused.length > before, { timeoutMs: 5000, what: 'the peer drops the handshake' });
  assert.equal(peer.served.length, servedBefore, 'the peer never served the expired client');
  // Citadel back: a fresh certificate and the peer accepts the workload again.
  await citadelUp();
  const fresh = await waitFor(() => (m.current()?.serial !== first.serial ? m.current() : undefined), { timeoutMs: 10_000, intervalMs: 50, what: 'renewal after expiry' });
  assert.equal((await call(peer.port, fresh!)).data, 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
});
