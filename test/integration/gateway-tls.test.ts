// Gateway TLS termination with a user's certificates, live: Istio Gateway + VirtualService ->
// pilot's own generator -> a real gateway proxy (real nats-server, fake pilot on the bus) ->
// mTLS to a real productpage sidecar and app. Clients are node:https with the user's CA and
// a servername, as `curl --cacert ... --resolve` would be.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import forge from 'node-forge';
import { pino } from 'pino';
import {
  connectBus, createLogger, spiffeId, subjects,
  type Bus, type ConfigAck, type ConfigPush, type ProxyAnnouncement, type Resource,
} from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { freePort, waitFor } from '../support/wait.js';
import { createTestCa, issueLeaf, type TestCa } from '../support/certs.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';
import { generateProxyConfig, buildPushContext } from '../../pilot/src/generate/index.js';
import { announcementToRegistry } from '../../pilot/src/registry/announce.js';
import { mergeSnapshots } from '../../pilot/src/registry/aggregate.js';

const quiet = createLogger('gateway-tls-test', 'silent');

// ---- the user's own PKI (DNS names, not SPIFFE ids) ----
interface Pem { certPem: string; keyPem: string }

function rsa() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function certificate(subjectCn: string, issuer: Pem | undefined, opts: { ca?: boolean; dns?: string[]; client?: boolean }): Pem {
  const k = rsa();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = `1${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3600_000);
  const subject = [{ name: 'commonName', value: subjectCn }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? forge.pki.certificateFromPem(issuer.certPem).subject.attributes : subject);
  cert.setExtensions(opts.ca
    ? [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]
    : [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: !opts.client, clientAuth: !!opts.client },
      ...(opts.dns ? [{ name: 'subjectAltName', altNames: opts.dns.map((value) => ({ type: 2, value })) }] : []),
    ]);
  cert.sign(forge.pki.privateKeyFromPem((issuer ?? k).keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.keyPem };
}

// ---- the mesh ----
let nats: NatsServer;
let meshCa: TestCa;
let pilotBus: Bus;
const buses: Bus[] = [];
const sidecars: Sidecar[] = [];
let app: http.Server;
const seen: http.IncomingHttpHeaders[] = [];
let backend: Sidecar;
let gateway: Sidecar;
let httpsPort: number;
let httpPort: number;
let work: string;
let shopCa: Pem;
let clientCa: Pem;
let goodClient: Pem;
let strangerClient: Pem;
const logLines: string[] = [];
const acks: ConfigAck[] = [];
let nonce = 0;

function workload(name: string, sa: string, labels: Record<string, string>, services: string[], appPorts: string, kind: 'sidecar' | 'gateway', portMap = new Map<number, number>()): WorkloadSpec {
  const id = spiffeId('default', sa);
  return {
    kind, proxyId: `${name}-gwtls.default`, name, namespace: 'default', serviceAccount: sa, labels, services,
    ports: parseAppPorts(appPorts), gatewayPortMap: portMap, spiffeId: id,
    peer: { workload: name, namespace: 'default', app: labels.app ?? name, version: labels.version ?? 'unknown', principal: id },
  };
}

async function sidecar(w: WorkloadSpec, log = quiet): Promise<Sidecar> {
  const bus = await connectBus({ servers: nats.url, name: w.proxyId, log: quiet });
  buses.push(bus);
  const s = await startSidecar({
    workload: w, bus, identity: staticIdentity(issueLeaf(meshCa, w.spiffeId)), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
    outbound: { bind: '127.0.0.1', port: 0 },
    adminPort: 0, gatewayBind: '127.0.0.1', gatewayCredentialDir: join(work, 'credentials'), register: true,
    heartbeatMs: 60_000, reportBatchMs: 50, reportBuffer: 1000,
  });
  sidecars.push(s);
  return s;
}

/** pilot's generator over the resources, pushed to the gateway; resolves with its ACK or NACK. */
async function apply(resources: Resource[]): Promise<ConfigAck> {
  const registry = mergeSnapshots([announcementToRegistry(backend.announcement())]);
  const version = `gwtls-${++nonce}`;
  const push = buildPushContext({ version, publishedAt: new Date().toISOString(), resources }, registry);
  const config = generateProxyConfig(push, gateway.announcement());
  const n = `n${nonce}`;
  const msg: ConfigPush = { proxyId: gateway.plane.workload.proxyId, version, nonce: n, sentAt: new Date().toISOString(), config };
  pilotBus.publish(subjects.proxyConfig(msg.proxyId), msg);
  return waitFor(() => acks.find((a) => a.nonce === n), { what: `ack of ${n}`, timeoutMs: 10_000 });
}

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: string; peer?: X509Certificate }

function get(o: { servername?: string; host: string; path?: string; ca?: string; client?: Pem; port?: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: o.port ?? httpsPort, path: o.path ?? '/productpage', method: 'GET', agent: false,
      servername: o.servername ?? o.host, headers: { host: o.host }, ca: o.ca ?? shopCa.certPem,
      ...(o.client ? { cert: o.client.certPem, key: o.client.keyPem } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ...(peer ? { peer } : {}) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function plainGet(host: string, path = '/productpage'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpPort, path, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const files = () => ({
  aCert: join(work, 'user', 'a.example.com.crt'),
  aKey: join(work, 'user', 'a.example.com.key'),
});

function gatewayResources(opts: { aKey?: string } = {}): Resource[] {
  const f = files();
  const gw: Resource = {
    apiVersion: 'networking.istio.io/v1alpha3', kind: 'Gateway', metadata: { name: 'shop-gateway', namespace: 'default' },
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: [
        { port: { number: 443, name: 'https-a', protocol: 'HTTPS' }, hosts: ['a.example.com'], tls: { mode: 'SIMPLE', serverCertificate: f.aCert, privateKey: opts.aKey ?? f.aKey } },
        { port: { number: 443, name: 'https-b', protocol: 'HTTPS' }, hosts: ['b.example.com'], tls: { mode: 'SIMPLE', credentialName: 'b-credential' } },
        { port: { number: 443, name: 'https-m', protocol: 'HTTPS' }, hosts: ['mtls.example.com'], tls: { mode: 'MUTUAL', credentialName: 'm-credential' } },
        { port: { number: 80, name: 'http-a', protocol: 'HTTP' }, hosts: ['a.example.com'], tls: { httpsRedirect: true } },
        { port: { number: 80, name: 'http-plain', protocol: 'HTTP' }, hosts: ['plain.example.com'] },
      ],
    },
  };
  const vs: Resource = {
    apiVersion: 'networking.istio.io/v1alpha3', kind: 'VirtualService', metadata: { name: 'shop', namespace: 'default' },
    spec: {
      hosts: ['a.example.com', 'b.example.com', 'mtls.example.com', 'plain.example.com'], gateways: ['shop-gateway'],
      http: [{ match: [{ uri: { prefix: '/productpage' } }], route: [{ destination: { host: 'productpage', port: { number: 9080 } } }] }],
    },
  };
  return [gw, vs];
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'mesh-gwtls-'));
  mkdirSync(join(work, 'user'));
  mkdirSync(join(work, 'credentials', 'b-credential'), { recursive: true });
  shopCa = certificate('shop root CA', undefined, { ca: true });
  clientCa = certificate('shop client CA', undefined, { ca: true });
  const a = certificate('a.example.com', shopCa, { dns: ['a.example.com'] });
  const b = certificate('b.example.com', shopCa, { dns: ['b.example.com'] });
  const m = certificate('mtls.example.com', shopCa, { dns: ['mtls.example.com'] });
  goodClient = certificate('good client', clientCa, { client: true });
  strangerClient = certificate('stranger', certificate('other CA', undefined, { ca: true }), { client: true });
  const f = files();
  writeFileSync(f.aCert, a.certPem);
  writeFileSync(f.aKey, a.keyPem, { mode: 0o600 });
  // credentialName, folder form (a Kubernetes TLS secret's keys) and flat form.
  writeFileSync(join(work, 'credentials', 'b-credential', 'tls.crt'), b.certPem);
  writeFileSync(join(work, 'credentials', 'b-credential', 'tls.key'), b.keyPem, { mode: 0o600 });
  writeFileSync(join(work, 'credentials', 'm-credential.crt'), m.certPem);
  writeFileSync(join(work, 'credentials', 'm-credential.key'), m.keyPem, { mode: 0o600 });
  writeFileSync(join(work, 'credentials', 'm-credential-cacert.crt'), clientCa.certPem);

  nats = await startNats();
  meshCa = createTestCa();
  pilotBus = await connectBus({ servers: nats.url, name: 'fake pilot', log: quiet });
  pilotBus.subscribe<ProxyAnnouncement>(subjects.proxyAnnounce, (msg) => { msg.respond({ ok: true }); });
  pilotBus.subscribe<ConfigAck>(subjects.proxyAck, (msg) => { acks.push(msg.data); });
  await pilotBus.flush();
  app = http.createServer((req, res) => {
    seen.push(req.headers);
    const body = `productpage for ${req.headers.host}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  backend = await sidecar(workload('productpage-v1', 'bookinfo-productpage', { app: 'productpage', version: 'v1' }, ['productpage'], `http:9080:${(app.address() as AddressInfo).port}`, 'sidecar'));
  httpsPort = await freePort();
  httpPort = await freePort();
  // Every log line the gateway writes, at debug, to check that no key material is logged.
  const sink = new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } });
  const gwLog = pino({ level: 'debug', base: { component: 'gateway' } }, sink);
  gateway = await sidecar(workload('istio-ingressgateway', 'istio-ingressgateway', { istio: 'ingressgateway' }, [], '', 'gateway', new Map([[443, httpsPort], [80, httpPort]])), gwLog);
  const ack = await apply(gatewayResources());
  assert.equal(ack.ok, true, ack.error);
});

after(async () => {
  for (const s of sidecars) await s.stop();
  for (const b of buses) await b.close();
  await pilotBus?.close();
  app?.closeAllConnections();
  await new Promise((r) => app?.close(r));
  await nats?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('HTTPS with the user\'s CA: the gateway presents the certificate of the SNI host and routes to productpage over mTLS', async () => {
  const a = await get({ host: 'a.example.com' });
  assert.equal(a.status, 200, a.body);
  assert.equal(a.body, 'productpage for a.example.com');
  assert.equal(a.peer?.subject, 'CN=a.example.com');
  assert.equal(seen.at(-1)?.['x-forwarded-proto'], 'https');
  assert.match(String(seen.at(-1)?.['x-forwarded-client-cert']), /istio-ingressgateway/, 'the gateway reached productpage over mTLS');
  const b = await get({ host: 'b.example.com' });
  assert.equal(b.status, 200, b.body);
  assert.equal(b.peer?.subject, 'CN=b.example.com', 'another SNI host on the same port gets its own certificate (credentialName, folder form)');
  assert.notEqual(a.peer?.fingerprint256, b.peer?.fingerprint256);
  // A client that trusts only the mesh's CA refuses the user's certificate, as curl would.
  await assert.rejects(get({ host: 'a.example.com', ca: meshCa.certPem }), /certificate|self.signed|unable to verify/i);
  // An SNI no server names: no certificate, the handshake fails.
  await assert.rejects(get({ host: 'nobody.example.com' }));
});

test('MUTUAL: a client without a certificate, or with one another CA signed, is refused; the CA\'s client gets through', async () => {
  await assert.rejects(get({ host: 'mtls.example.com' }), /socket hang up|ECONNRESET|certificate|alert/i);
  await assert.rejects(get({ host: 'mtls.example.com', client: strangerClient }), /socket hang up|ECONNRESET|certificate|alert/i);
  const ok = await get({ host: 'mtls.example.com', client: goodClient });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.peer?.subject, 'CN=mtls.example.com', 'credentialName, flat form, with its -cacert');
  // SIMPLE hosts on the same port still serve clients without certificates.
  assert.equal((await get({ host: 'a.example.com' })).status, 200);
});

test('httpsRedirect answers 301 to https; another host on the same plain port is served', async () => {
  const r = await plainGet('a.example.com', '/productpage?u=1');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'https://a.example.com/productpage?u=1');
  const p = await plainGet('plain.example.com');
  assert.equal(p.status, 200, p.body);
  assert.equal(p.body, 'productpage for plain.example.com');
  // The TLS port takes no plain HTTP.
  await assert.rejects(new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: httpsPort, path: '/productpage', headers: { host: 'a.example.com' }, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  }));
});

test('a missing key file NACKs naming the file; the last good listener keeps serving; no key material anywhere', async () => {
  const missing = join(work, 'user', 'missing.key');
  const before = (await get({ host: 'a.example.com' })).peer?.fingerprint256;
  const nack = await apply(gatewayResources({ aKey: missing }));
  assert.equal(nack.ok, false);
  assert.match(nack.error!, /SC0110/);
  assert.ok(nack.error!.includes(missing), nack.error);
  assert.match(nack.error!, /privateKey.*ENOENT/);
  const still = await get({ host: 'a.example.com' });
  assert.equal(still.status, 200);
  assert.equal(still.peer?.fingerprint256, before, 'the last good certificate keeps serving');
  // An unreadable key (a directory): the same, naming it.
  const nack2 = await apply(gatewayResources({ aKey: join(work, 'user') }));
  assert.equal(nack2.ok, false);
  assert.ok(nack2.error!.includes(join(work, 'user')), nack2.error);

  const dump = await (await fetch(`http://127.0.0.1:${gateway.ports.admin}/config_dump`)).text();
  assert.ok(dump.includes(files().aKey), 'config_dump shows the key path');
  assert.ok(dump.includes('b-credential'), 'and the credential name');
  assert.ok(!/PRIVATE KEY/.test(dump), 'config_dump carries no key material');
  const logs = logLines.join('');
  assert.ok(logLines.length > 0, 'the gateway logged at debug');
  assert.ok(!/PRIVATE KEY/.test(logs), 'logs carry no key material');
  assert.ok(!/PRIVATE KEY/.test(JSON.stringify(acks)), 'nor do ACK/NACK messages');
});
