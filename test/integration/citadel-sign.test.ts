// citadel in-process on a real nats-server; workloads get certs over the bus with the
// sidecar's IdentityManager and use them in real mutual-TLS handshakes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { bootstrapToken, connectBus, createLogger, type Bus } from '#api';
import { tokenAttestor } from '../../citadel/src/attest.js';
import { attachCitadelBus, type CitadelBus } from '../../citadel/src/bus.js';
import { CertificateAuthority } from '../../citadel/src/ca.js';
import { Inventory } from '../../citadel/src/inventory.js';
import { createIssuer, type Issuer } from '../../citadel/src/issue.js';
import { loadOrCreateRoot } from '../../citadel/src/root.js';
import { buildCsr, generateWorkloadKey } from '../../sidecar/src/identity/csr.js';
import { createIdentityManager, peerSpiffeId, tlsCredentials, type IdentityManager, type WorkloadIdentity } from '../../sidecar/src/identity/index.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'integration-secret';
const log = createLogger('test', 'silent');
let nats: NatsServer;
let dir: string;
let ca: CertificateAuthority;
let issue: Issuer;
let citadelConn: Bus;
let workloadConn: Bus;
let citadel: CitadelBus;
const inventory = new Inventory(1000);
const managers: IdentityManager[] = [];
const servers: tls.Server[] = [];

function manager(sa: string, over: Partial<Parameters<typeof createIdentityManager>[0]> = {}): IdentityManager {
  const m = createIdentityManager({
    bus: workloadConn, proxyId: `${sa}-abcde.default`, namespace: 'default', serviceAccount: sa,
    token: bootstrapToken(SECRET, 'default', sa), ttlSeconds: 3600, log, retryInitialMs: 50, retryMaxMs: 400, ...over,
  });
  managers.push(m);
  return m;
}

before(async () => {
  nats = await startNats();
  dir = mkdtempSync(join(tmpdir(), 'citadel-it-'));
  const roots = await loadOrCreateRoot({ dataDir: join(dir, 'ca'), trustDomain: 'cluster.local', rootTtlDays: 3650, log });
  ca = new CertificateAuthority(roots.signing, 'cluster.local', roots.extra);
  issue = createIssuer({ ca, attestor: tokenAttestor(SECRET), inventory, log, ttlDefaultSeconds: 86_400, ttlMaxSeconds: 7_776_000 });
  citadelConn = await connectBus({ servers: nats.url, name: 'citadel', log });
  workloadConn = await connectBus({ servers: nats.url, name: 'workloads', log });
  citadel = attachCitadelBus({ bus: citadelConn, issue, trustBundle: () => ca.trustBundle(), log });
});

after(async () => {
  for (const m of managers) m.stop();
  citadel.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await workloadConn.close();
  await citadelConn.close();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An mTLS server that answers each client with the SPIFFE id it authenticated. */
async function mtlsServer(id: WorkloadIdentity): Promise<{ port: number; clientErrors: Error[] }> {
  const clientErrors: Error[] = [];
  const server = tls.createServer({ ...tlsCredentials(id), requestCert: true, rejectUnauthorized: true }, (sock) => {
    sock.end(peerSpiffeId(sock.getPeerCertificate()) ?? 'anonymous');
  });
  server.on('tlsClientError', (err) => clientErrors.push(err));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, clientErrors };
}

/** Connects, reads everything; resolves with what arrived or the error that ended it. */
function mtlsCall(port: number, creds: Partial<tls.ConnectionOptions>, expectServer?: string): Promise<{ data: string; error?: Error }> {
  return new Promise((resolve) => {
    let data = '';
    let error: Error | undefined;
    const sock = tls.connect({
      host: '127.0.0.1', port, ...creds,
      checkServerIdentity: (_host, cert) => (expectServer && peerSpiffeId(cert) !== expectServer ? new Error(`server is ${peerSpiffeId(cert)}`) : undefined),
    });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => { data += d; });
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => resolve({ data, error }));
  });
}

test('workloads get certs over the bus and complete a mutual TLS handshake that names the client', async () => {
  const certDir = join(dir, 'reviews-certs');
  const reviews = manager('bookinfo-reviews', { certDir });
  const productpage = manager('bookinfo-productpage');
  const [serverId, clientId] = await Promise.all([reviews.start(), productpage.start()]);

  assert.equal(serverId.spiffeId, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  assert.equal(new X509Certificate(clientId.certChainPem).verify(new X509Certificate(ca.signingRoot().certPem).publicKey), true);
  assert.equal(productpage.current()?.serial, clientId.serial);
  assert.equal(inventory.list({ proxyId: 'bookinfo-productpage-abcde.default' })[0]?.serial, clientId.serial);
  const st = reviews.status();
  assert.equal(st.serial, serverId.serial);
  assert.ok(st.rotatesAt && Date.parse(st.rotatesAt) > Date.now() + 1000 * 1000, 'renewal planned about half an hour ahead');

  // Files for inspection: chain and roots, never the key.
  await waitFor(() => existsSync(join(certDir, 'root-cert.pem')), { what: 'cert files' });
  assert.equal(readFileSync(join(certDir, 'cert-chain.pem'), 'utf8'), serverId.certChainPem);
  assert.equal(readFileSync(join(certDir, 'root-cert.pem'), 'utf8'), serverId.rootsPem);

  const { port, clientErrors } = await mtlsServer(serverId);
  const r = await mtlsCall(port, tlsCredentials(clientId), serverId.spiffeId);
  assert.equal(r.error, undefined);
  assert.equal(r.data, 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
  assert.deepEqual(clientErrors, []);

  // The client refuses a server that is not the identity it expects.
  const wrong = await mtlsCall(port, tlsCredentials(clientId), 'spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
  assert.match(String(wrong.error?.message), /server is spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-reviews/);
  assert.equal(wrong.data, '');
});

test('a client with a cert from a foreign CA, or with no cert, is refused', async () => {
  const serverId = await manager('httpbin').start();
  const { port, clientErrors } = await mtlsServer(serverId);

  const foreignRoots = await loadOrCreateRoot({ dataDir: join(dir, 'foreign'), trustDomain: 'cluster.local', rootTtlDays: 1, log });
  const foreign = new CertificateAuthority(foreignRoots.signing, 'cluster.local');
  const key = await generateWorkloadKey();
  const forged = foreign.sign(buildCsr(key, 'x', 'cluster.local'), { namespace: 'default', serviceAccount: 'sleep' }, 600);

  const r = await mtlsCall(port, { key: key.keyPem, cert: forged.certPem, ca: serverId.rootsPem });
  assert.equal(r.data, '', 'the server answered nothing');
  await waitFor(() => clientErrors.length >= 1, { what: 'server-side refusal' });
  // Under TLS 1.3 Node reports the refusal on the server as a reset handshake; what matters
  // is that no byte reached the foreign client and the server counted a failed handshake.

  const anon = await mtlsCall(port, { ca: serverId.rootsPem });
  assert.equal(anon.data, '');
  await waitFor(() => clientErrors.length >= 2, { what: 'refusal of a client without a cert' });

  // The same server still serves a mesh client: the refusals were about the certs.
  const meshClient = await manager('sleep', { proxyId: 'sleep-fghij.default' }).start();
  const ok = await mtlsCall(port, tlsCredentials(meshClient), serverId.spiffeId);
  assert.equal(ok.data, 'spiffe://cluster.local/ns/default/sa/sleep');
});

test('a short-lived cert is renewed with a new key and serial, and onChange fires', { timeout: 20_000 }, async () => {
  const m = manager('bookinfo-ratings', { ttlSeconds: 4 });
  const first = await m.start();
  const changes: WorkloadIdentity[] = [];
  m.onChange((id) => changes.push(id));
  const renewed = await waitFor(() => changes.find((c) => c.serial !== first.serial), { timeoutMs: 10_000, what: 'renewal' });
  assert.notEqual(renewed.keyPem, first.keyPem, 'a new key for every cert');
  assert.ok(renewed.notAfter.getTime() > first.notAfter.getTime());
  assert.equal(m.current()?.serial, renewed.serial);
  assert.equal(new X509Certificate(renewed.certChainPem).subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
});

test('a trust bundle change reaches every workload without a new cert', async () => {
  const m = manager('details');
  const first = await m.start();
  const changes: WorkloadIdentity[] = [];
  m.onChange((id) => changes.push(id));
  const other = await loadOrCreateRoot({ dataDir: join(dir, 'next-root'), trustDomain: 'cluster.local', rootTtlDays: 1, log });
  ca.addTrustedRoot(other.signing.info.certPem);
  citadel.publishBundle();
  const updated = await waitFor(() => changes.find((c) => c.rootsPem.includes(other.signing.info.certPem.trim())), { what: 'new trust bundle' });
  assert.equal(updated.serial, first.serial, 'the cert stays: still signed by a trusted root');
  assert.equal(m.status().trustBundleVersion, ca.trustBundle().version);
});

test('a wrong token is refused and retried; start() waits for citadel and stop() ends it', async () => {
  const impostor = manager('bookinfo-reviews', { proxyId: 'sleep-abcde.default', token: bootstrapToken(SECRET, 'default', 'sleep') });
  const pending = impostor.start();
  await waitFor(() => impostor.status().lastError?.includes('NOT_ENTITLED'), { what: 'NOT_ENTITLED refusal' });
  assert.equal(impostor.current(), undefined);
  impostor.stop();
  await assert.rejects(pending, /IDENTITY_STOPPED/);

  // Citadel away: the manager keeps retrying, and gets its cert once citadel answers again.
  citadel.stop();
  const late = manager('sleep');
  const got = late.start();
  await waitFor(() => late.status().lastError?.includes('CITADEL_UNREACHABLE'), { what: 'unreachable citadel noticed' });
  citadel = attachCitadelBus({ bus: citadelConn, issue, trustBundle: () => ca.trustBundle(), log });
  const id = await got;
  assert.equal(id.spiffeId, 'spiffe://cluster.local/ns/default/sa/sleep');
  assert.equal(late.status().lastError, undefined);
});
