// Issue 5 point 3: DestinationRule tls SIMPLE, MUTUAL and DISABLE towards a ServiceEntry host,
// live: real pilot (ServiceEntry + DestinationRule from a galley snapshot), a real sidecar, and a
// real HTTPS upstream that demands a client certificate from its own CA. The app speaks plain
// HTTP to its sidecar; the sidecar originates TLS with the rule's files, SNI and SANs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import forge from 'node-forge';
import { connectBus, createLogger, spiffeId, subjects, type Bus, type ConfigSnapshot } from '#api';
import { startPilot, type Pilot } from '../../pilot/src/pilot.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { createTestCa, issueLeaf } from '../support/certs.js';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { parseResources } from '../unit/pilot/bookinfo-model.js';

const log = createLogger('test', 'silent');
const HOST = 'secure.example.local';

/** A PEM CA and leaves with DNS names / a CN (not SPIFFE): an ordinary PKI outside the mesh. */
function pki(name: string) {
  const ca = keyed();
  const caCert = certificate(ca.publicPem, [{ name: 'commonName', value: name }], [{ name: 'commonName', value: name }], [
    { name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true },
  ], ca.keyPem);
  const leaf = (cn: string, dnsNames: string[]) => {
    const k = keyed();
    const cert = certificate(k.publicPem, [{ name: 'commonName', value: cn }], [{ name: 'commonName', value: name }], [
      { name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      ...(dnsNames.length ? [{ name: 'subjectAltName', altNames: dnsNames.map((value) => ({ type: 2, value })) }] : []),
    ], ca.keyPem);
    return { certPem: cert, keyPem: k.keyPem };
  };
  return { certPem: caCert, leaf };
}

function keyed() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function certificate(publicPem: string, subject: forge.pki.CertificateField[], issuer: forge.pki.CertificateField[], extensions: object[], signKeyPem: string): string {
  const c = forge.pki.createCertificate();
  c.publicKey = forge.pki.publicKeyFromPem(publicPem);
  c.serialNumber = `1${randomBytes(8).toString('hex')}`;
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 3600_000);
  c.setSubject(subject);
  c.setIssuer(issuer);
  c.setExtensions(extensions);
  c.sign(forge.pki.privateKeyFromPem(signKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(c);
}

let nats: NatsServer;
let pilotBus: Bus;
let galley: Bus;
let sidecarBus: Bus;
let pilot: Pilot;
let sidecar: Sidecar;
let upstream: https.Server;
let upstreamPort = 0;
let dir: string;
let snapshot: ConfigSnapshot;
let version = 0;
const seen: { cn: string; sni: string | false; path: string }[] = [];
const files: Record<string, string> = {};

function resources(tls: string): ConfigSnapshot {
  return {
    version: `v${++version}`, publishedAt: new Date().toISOString(), resources: parseResources(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: secure }
spec:
  hosts: [${HOST}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${upstreamPort} } }]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: secure }
spec:
  host: ${HOST}
  trafficPolicy:
    tls: ${tls}
`),
  };
}

/** Publishes a new config and waits until the sidecar serves it. */
async function apply(tls: string): Promise<void> {
  snapshot = resources(tls);
  const before = sidecar.plane.status.version;
  galley.publish(subjects.configSnapshot, snapshot);
  await waitFor(() => sidecar.plane.status.version !== undefined && sidecar.plane.status.version !== before, { timeoutMs: 20_000, what: `sidecar applies ${tls}` });
}

/** The app's request: plain HTTP, absolute-form, to its sidecar's outbound listener. */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: sidecar.ports.outbound, path: `http://${HOST}${path}`, headers: { host: HOST }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'client-tls-'));
  const server = pki('upstream server CA');
  const clients = pki('upstream client CA');
  const foreign = pki('some other CA');
  const serverLeaf = server.leaf(HOST, [HOST]);
  const clientLeaf = clients.leaf('mesh-egress-client', []);
  const rogueLeaf = foreign.leaf('rogue-client', []);
  for (const [name, text] of Object.entries({ 'server-ca.pem': server.certPem, 'client.pem': clientLeaf.certPem, 'client-key.pem': clientLeaf.keyPem, 'foreign-ca.pem': foreign.certPem, 'rogue.pem': rogueLeaf.certPem, 'rogue-key.pem': rogueLeaf.keyPem })) {
    files[name] = join(dir, name);
    writeFileSync(files[name]!, text, { mode: 0o600 });
  }
  upstream = https.createServer({ key: serverLeaf.keyPem, cert: serverLeaf.certPem, ca: clients.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const s = req.socket as TLSSocket;
    seen.push({ cn: String(s.getPeerCertificate().subject?.CN ?? ''), sni: (s as TLSSocket & { servername: string | false }).servername, path: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${s.getPeerCertificate().subject?.CN}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;

  nats = await startNats();
  pilotBus = await connectBus({ servers: nats.url, name: 'pilot', log });
  galley = await connectBus({ servers: nats.url, name: 'galley', log });
  snapshot = resources('{ mode: DISABLE }');
  galley.subscribe(subjects.configSnapshotGet, (m) => m.respond(snapshot));
  await galley.flush();
  pilot = await startPilot(
    { registries: ['announce'], dockerSocket: '', dockerNetwork: '', pushDebounceMs: 20, pushDebounceMaxMs: 300, proxyExpiryMs: 60_000 },
    { bus: pilotBus, log },
  );
  await pilot.bus.fetchSnapshot();
  const ca = createTestCa();
  const id = spiffeId('default', 'sleep');
  sidecarBus = await connectBus({ servers: nats.url, name: 'sleep', log });
  sidecar = await startSidecar({
    workload: {
      kind: 'sidecar', proxyId: 'sleep-tls01.default', name: 'sleep', namespace: 'default', serviceAccount: 'sleep',
      labels: { app: 'sleep', version: 'v1' }, services: [], ports: [], gatewayPortMap: new Map(), spiffeId: id,
      peer: { workload: 'sleep', namespace: 'default', app: 'sleep', version: 'v1', principal: id },
    },
    bus: sidecarBus, identity: staticIdentity(issueLeaf(ca, id)), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
    outbound: { bind: '127.0.0.1', port: 0 },
    gatewayBind: '127.0.0.1', register: true, heartbeatMs: 60_000, reportBatchMs: 1000, reportBuffer: 100,
  });
  await waitFor(() => sidecar.plane.status.version !== undefined, { timeoutMs: 20_000, what: 'first config' });
});

after(async () => {
  await sidecar?.stop();
  await pilot?.stop();
  for (const b of [sidecarBus, galley, pilotBus]) await b?.close();
  await nats?.stop();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('MUTUAL: the sidecar presents the client certificate, verifies the server by its CA and SNI', async () => {
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['client.pem']}, privateKey: ${files['client-key.pem']}, caCertificates: ${files['server-ca.pem']}, sni: ${HOST} }`);
  const r = await get('/status/mutual');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, 'hello mesh-egress-client');
  assert.deepEqual(seen.at(-1), { cn: 'mesh-egress-client', sni: HOST, path: '/status/mutual' });
  // The generated cluster carries the rule's files (what `meshctl proxy-config cluster` shows).
  const cluster = [...(sidecar.plane.current?.clusters.values() ?? [])].find((c) => c.def.service === HOST)?.def;
  assert.equal(cluster?.tls.mode, 'MUTUAL');
  assert.equal(cluster?.tls.clientCertificate, files['client.pem']);
  // Kept-alive: a second request reuses the pool.
  assert.equal((await get('/again')).status, 200);
});

test('MUTUAL with subjectAltNames the server does not carry, or a CA that did not sign it: refused, never sent', async () => {
  const before = seen.length;
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['client.pem']}, privateKey: ${files['client-key.pem']}, caCertificates: ${files['server-ca.pem']}, subjectAltNames: [other.example.local] }`);
  const wrongSan = await get('/wrong-san');
  assert.ok(wrongSan.status >= 500, `wrong SAN answered ${wrongSan.status}`);
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['client.pem']}, privateKey: ${files['client-key.pem']}, caCertificates: ${files['foreign-ca.pem']} }`);
  const wrongCa = await get('/wrong-ca');
  assert.ok(wrongCa.status >= 500, `wrong CA answered ${wrongCa.status}`);
  // subjectAltNames naming the server's DNS SAN pass.
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['client.pem']}, privateKey: ${files['client-key.pem']}, caCertificates: ${files['server-ca.pem']}, subjectAltNames: [${HOST}] }`);
  assert.equal((await get('/right-san')).status, 200);
  assert.deepEqual(seen.slice(before).map((s) => s.path), ['/right-san']);
});

test('SIMPLE (no client certificate), a client certificate from a foreign CA, DISABLE: the upstream refuses them all', async () => {
  const before = seen.length;
  await apply(`{ mode: SIMPLE, caCertificates: ${files['server-ca.pem']}, sni: ${HOST} }`);
  const simple = await get('/simple');
  assert.ok(simple.status >= 500, `SIMPLE without a client cert answered ${simple.status}`);
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['rogue.pem']}, privateKey: ${files['rogue-key.pem']}, caCertificates: ${files['server-ca.pem']} }`);
  const rogue = await get('/rogue');
  assert.ok(rogue.status >= 500, `a foreign client cert answered ${rogue.status}`);
  await apply('{ mode: DISABLE }');
  const plain = await get('/plain');
  assert.ok(plain.status >= 400, `plaintext to the TLS port answered ${plain.status}`);
  assert.equal(seen.length, before, `nothing reached the upstream's handler: ${JSON.stringify(seen.slice(before))}`);
});

test('MUTUAL with an unreadable key file: 503 and the reason is kept, the sidecar keeps serving', async () => {
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['client.pem']}, privateKey: ${join(dir, 'missing-key.pem')}, caCertificates: ${files['server-ca.pem']} }`);
  const r = await get('/missing');
  assert.equal(r.status, 503);
  await apply(`{ mode: MUTUAL, clientCertificate: ${files['client.pem']}, privateKey: ${files['client-key.pem']}, caCertificates: ${files['server-ca.pem']} }`);
  assert.equal((await get('/back')).status, 200);
});
