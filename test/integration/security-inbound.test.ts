// Attacks on one real sidecar's inbound listener (httpbin, ports 8000 and 9000 to one app):
// plaintext under STRICT, foreign and expired client certificates, the wrong SPIFFE id against
// a policy, a path-trick corpus against a DENY, tokens signed by another key. Policies arrive
// the way pilot sends them: a ConfigPush on the bus, ACKed. Clients speak to the inbound port
// directly (https with test-CA certificates, or plain http like a workload without a sidecar).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  clusterName, connectBus, createLogger, hostAliases, spiffeId, subjects,
  type Bus, type ConfigAck, type ConfigPush, type InboundPolicy, type ProxyConfig,
} from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/wait.js';
import { createTestCa, issueLeaf, type TestCa, type TestLeaf } from '../support/certs.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';
import { istioSample } from '../support/samples.js';

const log = createLogger('security-test', 'silent');
const SAMPLES = istioSample('head', 'jwt');

interface Seen { url: string; headers: http.IncomingHttpHeaders }
interface Resp { status: number; body: string; headers: http.IncomingHttpHeaders }

let nats: NatsServer;
let ca: TestCa;
let pilotBus: Bus;
let serverBus: Bus;
let server: Sidecar;
let app: http.Server;
let jwksServer: http.Server;
let jwksBody = '';
const seen: Seen[] = [];
const acks: ConfigAck[] = [];
let nonce = 0;
let sleepLeaf: TestLeaf;
const proxyId = 'httpbin-v1-sec01.default';

const jwtKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ISSUER = 'https://issuer.mesh.test';

function jwk(pub: KeyObject, kid: string): Record<string, unknown> {
  return { ...pub.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function makeJwt(priv: KeyObject, claims: Record<string, unknown>, kid = 'k1'): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = enc({ alg: 'RS256', typ: 'JWT', kid });
  const body = enc({ iss: ISSUER, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600, ...claims });
  return `${head}.${body}.${cryptoSign('sha256', Buffer.from(`${head}.${body}`), priv).toString('base64url')}`;
}

function workload(): WorkloadSpec {
  const id = spiffeId('default', 'httpbin');
  return {
    kind: 'sidecar', proxyId, name: 'httpbin-v1', namespace: 'default', serviceAccount: 'httpbin',
    labels: { app: 'httpbin', version: 'v1' }, services: ['httpbin'],
    ports: parseAppPorts(`http:8000:${(app.address() as AddressInfo).port},http-alt:9000:${(app.address() as AddressInfo).port}`),
    gatewayPortMap: new Map(), spiffeId: id,
    peer: { workload: 'httpbin-v1', namespace: 'default', app: 'httpbin', version: 'v1', principal: id },
  };
}

const JWKS_HOST = 'jwks.default.svc.cluster.local';

/** The server's config: its inbound policy, plus an outbound route to the JWKS service. */
function config(policy: InboundPolicy): ProxyConfig {
  const jwksCluster = clusterName('outbound', 80, '', JWKS_HOST);
  return {
    node: { id: proxyId, kind: 'sidecar', workload: 'httpbin-v1', namespace: 'default', serviceAccount: 'httpbin', labels: { app: 'httpbin', version: 'v1' } },
    listeners: [
      { name: 'virtualInbound', kind: 'inbound', port: 15006, protocol: 'HTTP', mtlsMode: policy.mtls.mode },
      { name: 'virtualOutbound', kind: 'outbound', port: 15001, protocol: 'HTTP' },
    ],
    routes: [{ name: '80', virtualHosts: [{ name: `${JWKS_HOST}:80`, domains: hostAliases(JWKS_HOST, 80), routes: [
      { name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'route', clusters: [{ name: jwksCluster, weight: 100 }] } },
    ] }] }],
    clusters: [{ name: jwksCluster, type: 'STATIC', service: JWKS_HOST, port: 80, protocol: 'HTTP', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000, tls: { mode: 'DISABLE' } }],
    endpoints: [{ cluster: jwksCluster, endpoints: [{ address: '127.0.0.1', port: (jwksServer.address() as AddressInfo).port, healthy: true }] }],
    outboundTrafficPolicy: 'ALLOW_ANY',
    inboundPolicy: policy,
  };
}

async function apply(policy: InboundPolicy): Promise<ConfigAck> {
  const n = `s${++nonce}`;
  const msg: ConfigPush = { proxyId, version: `v${n}`, nonce: n, sentAt: new Date().toISOString(), config: config(policy) };
  pilotBus.publish(subjects.proxyConfig(proxyId), msg);
  return waitFor(() => acks.find((a) => a.nonce === n), { what: `ack of ${n}`, timeoutMs: 10_000 });
}

const policy = (p: Partial<InboundPolicy> = {}): InboundPolicy => ({ mtls: { mode: 'STRICT' }, authz: [], jwt: [], ...p });

function collect(res: http.IncomingMessage, resolve: (r: Resp) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
  res.on('error', reject);
}

/** mTLS straight to the inbound port, as a client sidecar would connect. */
function mtls(leaf: TestLeaf, path: string, opts: { host?: string; headers?: Record<string, string>; roots?: string } = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: server.ports.inbound, path, method: 'GET', agent: false,
      headers: { host: opts.host ?? 'httpbin:8000', ...opts.headers },
      key: leaf.keyPem, cert: leaf.certChainPem, ca: opts.roots ?? ca.certPem,
      checkServerIdentity: () => undefined,
    }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

/** A workload without a sidecar: plaintext HTTP to the inbound port. */
function plain(path: string, host = 'httpbin:8000', headers: Record<string, string> = {}): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.ports.inbound, path, method: 'GET', agent: false, headers: { host, ...headers } }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

async function refused(p: Promise<Resp>): Promise<string> {
  try {
    const r = await p;
    return `answered ${r.status}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}

before(async () => {
  nats = await startNats();
  ca = createTestCa();
  sleepLeaf = issueLeaf(ca, spiffeId('default', 'sleep'));
  app = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const body = JSON.stringify({ url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  jwksServer = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(jwksBody); });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  pilotBus = await connectBus({ servers: nats.url, name: 'fake pilot', log });
  pilotBus.subscribe<ConfigAck>(subjects.proxyAck, (m) => { acks.push(m.data); });
  pilotBus.subscribe(subjects.proxyAnnounce, (m) => m.respond({ ok: true }));
  serverBus = await connectBus({ servers: nats.url, name: proxyId, log });
  server = await startSidecar({
    workload: workload(), bus: serverBus, identity: staticIdentity(issueLeaf(ca, spiffeId('default', 'httpbin'))), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
    outbound: { bind: '127.0.0.1', port: 0 },
    gatewayBind: '127.0.0.1', register: true, heartbeatMs: 60_000, reportBatchMs: 50, reportBuffer: 100,
  });
});

after(async () => {
  await server?.stop();
  await serverBus?.close();
  await pilotBus?.close();
  await new Promise<void>((r) => app.close(() => r()));
  await new Promise<void>((r) => jwksServer.close(() => r()));
  await nats?.stop();
});

test('STRICT: a client without a sidecar is refused; mTLS is served with Istio XFCC', async () => {
  assert.equal((await apply(policy())).ok, true);
  assert.match(await refused(plain('/get')), /ECONNRESET|socket hang up|EPIPE/);
  const r = await mtls(sleepLeaf, '/get');
  assert.equal(r.status, 200);
  const h = JSON.parse(r.body).headers as Record<string, string>;
  assert.match(h['x-forwarded-client-cert']!, /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/httpbin;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep$/);
});

test('PERMISSIVE serves plaintext and mTLS; plaintext carries no identity and cannot forge one', async () => {
  assert.equal((await apply(policy({ mtls: { mode: 'PERMISSIVE' } }))).ok, true);
  const r = await plain('/get', 'httpbin:8000', { 'x-forwarded-client-cert': 'By=x;URI=spiffe://cluster.local/ns/default/sa/admin', 'x-mesh-peer': Buffer.from('{"workload":"admin"}').toString('base64') });
  assert.equal(r.status, 200);
  const h = JSON.parse(r.body).headers as Record<string, string>;
  assert.equal(h['x-forwarded-client-cert'], undefined);
  assert.equal(h['x-mesh-peer'], undefined);
  assert.equal((await mtls(sleepLeaf, '/get')).status, 200);
  // DISABLE serves plaintext too.
  assert.equal((await apply(policy({ mtls: { mode: 'DISABLE' } }))).ok, true);
  assert.equal((await plain('/get')).status, 200);
});

test('portLevelMtls: the port override beats the workload mode, both ways', async () => {
  assert.equal((await apply(policy({ mtls: { mode: 'PERMISSIVE', ports: { '9000': 'STRICT' } } }))).ok, true);
  assert.equal((await plain('/get', 'httpbin:8000')).status, 200);
  assert.match(await refused(plain('/get', 'httpbin:9000')), /ECONNRESET|socket hang up|EPIPE/);
  assert.equal((await mtls(sleepLeaf, '/get', { host: 'httpbin:9000' })).status, 200);
  assert.equal((await apply(policy({ mtls: { mode: 'STRICT', ports: { '8000': 'PERMISSIVE' } } }))).ok, true);
  assert.equal((await plain('/get', 'httpbin:8000')).status, 200);
  assert.match(await refused(plain('/get', 'httpbin:9000')), /ECONNRESET|socket hang up|EPIPE/);
});

test('a foreign CA and an expired certificate are refused at the handshake', async () => {
  assert.equal((await apply(policy())).ok, true);
  const foreign = createTestCa('foreign root');
  const forged = issueLeaf(foreign, spiffeId('default', 'sleep'));
  assert.notEqual(await refused(mtls(forged, '/get')), 'answered 200');
  const expired = issueLeaf(ca, spiffeId('default', 'sleep'), { ttlMs: -30_000 });
  assert.notEqual(await refused(mtls(expired, '/get')), 'answered 200');
  const before = seen.length;
  assert.equal((await mtls(sleepLeaf, '/get')).status, 200);
  assert.equal(seen.length, before + 1);
});

test('a mesh-signed certificate of another trust domain, or without a SPIFFE id, is refused (trust domain validation)', async () => {
  assert.equal((await apply(policy())).ok, true);
  const before = seen.length;
  const otherDomain = issueLeaf(ca, 'spiffe://evil.example/ns/default/sa/sleep');
  assert.notEqual(await refused(mtls(otherDomain, '/get')), 'answered 200');
  const noSpiffe = issueLeaf(ca, 'https://not-a-spiffe-id.example/');
  assert.notEqual(await refused(mtls(noSpiffe, '/get')), 'answered 200');
  assert.equal(seen.length, before, 'nothing reached the app');
  assert.equal((await mtls(sleepLeaf, '/get')).status, 200);
});

test('AuthorizationPolicy: empty ALLOW denies all; principals allow only the right SPIFFE id', async () => {
  assert.equal((await apply(policy({ authz: [{ name: 'AuthorizationPolicy/default/allow-nothing', action: 'ALLOW', rules: [] }] }))).ok, true);
  const denied = await mtls(sleepLeaf, '/get');
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'RBAC: access denied');
  assert.equal((await apply(policy({ authz: [{
    name: 'AuthorizationPolicy/default/sleep-only', action: 'ALLOW',
    rules: [{ from: [{ principals: [{ exact: 'cluster.local/ns/default/sa/sleep' }] }], to: [{ methods: [{ exact: 'GET' }] }] }],
  }] }))).ok, true);
  assert.equal((await mtls(sleepLeaf, '/get')).status, 200);
  const intruder = issueLeaf(ca, spiffeId('default', 'intruder'));
  assert.equal((await mtls(intruder, '/get')).status, 403);
  // DENY wins over ALLOW.
  assert.equal((await apply(policy({ authz: [
    { name: 'AuthorizationPolicy/default/allow-sleep', action: 'ALLOW', rules: [{ from: [{ principals: [{ exact: 'cluster.local/ns/default/sa/sleep' }] }] }] },
    { name: 'AuthorizationPolicy/default/deny-header', action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-evil]', values: [{ presence: true }] }] }] },
  ] }))).ok, true);
  assert.equal((await mtls(sleepLeaf, '/get')).status, 200);
  assert.equal((await mtls(sleepLeaf, '/get', { headers: { 'x-evil': '1' } })).status, 403);
});

/** How a lenient upstream (decodes once, ignores case and `;params`, resolves dots) reads a path. */
function upstreamView(url: string): string {
  let p = url.split('?')[0]!;
  try { p = decodeURIComponent(p); } catch { /* left as is */ }
  p = p.replace(/\\/g, '/').toLowerCase().split('/').map((s) => s.split(';')[0]).join('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop(); else out.push(seg);
  }
  return `/${out.join('/')}`;
}

const CORPUS = [
  '/admin', '/admin/', '/admin/users', '//admin', '///admin/users', '/./admin', '/x/../admin', '/x/..//admin', '/.%2e/admin',
  '/%61dmin', '/%41DMIN', '/ADMIN', '/Admin/users', '/admin;jsessionid=1', '/admin;x/users', '/admin#frag', '/admin?x=1',
  '/%2Fadmin', '/%2fadmin', '/x/..%2Fadmin', '/x/..%2fadmin', '/%5Cadmin', '/x%5C..%5Cadmin', '/%2561dmin', '/%252Fadmin',
  '/x/%2e%2e/admin', '/x/%2E%2E/ADMIN', '/admin%00', '/public/../admin',
];

test('path-trick corpus against a DENY on /admin: no variant reaches the upstream as /admin', async () => {
  const deny = { name: 'AuthorizationPolicy/default/deny-admin', action: 'DENY' as const, rules: [{ to: [{ paths: [{ exact: '/admin' }, { prefix: '/admin/' }] }] }] };
  for (const escapedSlashes of ['REJECT', 'DECODE'] as const) {
    assert.equal((await apply(policy({ authz: [deny], pathNormalization: { escapedSlashes } }))).ok, true);
    const start = seen.length;
    const outcomes: string[] = [];
    for (const path of CORPUS) {
      const r = await mtls(sleepLeaf, path).catch((e: Error) => ({ status: 0, body: e.message, headers: {} }));
      outcomes.push(`${path} -> ${r.status}`);
      assert.ok([400, 403].includes(r.status) || (r.status === 200 && !upstreamView(JSON.parse(r.body).url).startsWith('/admin')), `${escapedSlashes} ${path} answered ${r.status}`);
    }
    const reached = seen.slice(start).map((s) => s.url).filter((u) => upstreamView(u) === '/admin' || upstreamView(u).startsWith('/admin/'));
    assert.deepEqual(reached, [], `reached the upstream: ${reached.join(', ')}\n${outcomes.join('\n')}`);
    // The policy is not a blanket deny: other paths pass, as forwarded.
    const ok = await mtls(sleepLeaf, '/public//x/../headers');
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).url, '/public/headers');
  }
});

test('RequestAuthentication: valid token passes with its principal; another key, expiry or issuer get 401', async () => {
  const jwks = JSON.stringify({ keys: [jwk(jwtKey.publicKey, 'k1')] });
  assert.equal((await apply(policy({
    jwt: [{ issuer: ISSUER, audiences: ['mesh'], jwks, origin: 'RequestAuthentication/default/jwt' }],
    authz: [{ name: 'AuthorizationPolicy/default/require-jwt', action: 'ALLOW', rules: [{
      from: [{ requestPrincipals: [{ exact: `${ISSUER}/alice` }] }],
      when: [{ key: 'request.auth.claims[groups]', values: [{ exact: 'admins' }] }],
    }] }],
  }))).ok, true);
  const good = makeJwt(jwtKey.privateKey, { aud: 'mesh', groups: ['users', 'admins'] });
  const r = await mtls(sleepLeaf, '/headers', { headers: { authorization: `Bearer ${good}` } });
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).headers.authorization, undefined, 'the token is not forwarded by default');
  // A token without the claim the policy asks for: authenticated, but not authorised.
  assert.equal((await mtls(sleepLeaf, '/headers', { headers: { authorization: `Bearer ${makeJwt(jwtKey.privateKey, { aud: 'mesh', groups: ['users'] })}` } })).status, 403);
  // No token: no request principal, so the ALLOW does not match.
  assert.equal((await mtls(sleepLeaf, '/headers')).status, 403);
  for (const bad of [
    makeJwt(otherKey.privateKey, { aud: 'mesh', groups: ['admins'] }),
    makeJwt(jwtKey.privateKey, { aud: 'mesh', groups: ['admins'], exp: Math.floor(Date.now() / 1000) - 3600 }),
    makeJwt(jwtKey.privateKey, { aud: 'other', groups: ['admins'] }),
    makeJwt(jwtKey.privateKey, { aud: 'mesh', groups: ['admins'], iss: 'https://evil.test' }),
    `${good.split('.').slice(0, 2).join('.')}.`,
    'not-a-jwt',
  ]) {
    const res = await mtls(sleepLeaf, '/headers', { headers: { authorization: `Bearer ${bad}` } });
    assert.equal(res.status, 401, `token ${bad.slice(0, 20)}... answered ${res.status}`);
  }
});

test('RequestAuthentication: a jwksUri served inside the mesh is fetched through the outbound listener', async () => {
  jwksBody = JSON.stringify({ keys: [jwk(jwtKey.publicKey, 'k1')] });
  assert.equal((await apply(policy({ jwt: [{ issuer: ISSUER, jwksUri: `http://${JWKS_HOST}/keys.json`, origin: 'RequestAuthentication/default/jwt-uri' }] }))).ok, true);
  assert.equal((await mtls(sleepLeaf, '/headers', { headers: { authorization: `Bearer ${makeJwt(jwtKey.privateKey, {})}` } })).status, 200);
  assert.equal((await mtls(sleepLeaf, '/headers', { headers: { authorization: `Bearer ${makeJwt(otherKey.privateKey, {})}` } })).status, 401);
});

test("Istio's sample JWKS and demo token verify (skipped without the samples)", { skip: !existsSync(`${SAMPLES}/jwks.json`) }, async () => {
  const jwks = readFileSync(`${SAMPLES}/jwks.json`, 'utf8');
  const demo = readFileSync(`${SAMPLES}/demo.jwt`, 'utf8').trim();
  assert.equal((await apply(policy({
    jwt: [{ issuer: 'testing@secure.istio.io', jwks, origin: 'RequestAuthentication/default/jwt-example' }],
    authz: [{ name: 'AuthorizationPolicy/default/require-jwt', action: 'ALLOW', rules: [{ from: [{ requestPrincipals: [{ exact: 'testing@secure.istio.io/testing@secure.istio.io' }] }] }] }],
  }))).ok, true);
  assert.equal((await mtls(sleepLeaf, '/headers', { headers: { authorization: `Bearer ${demo}` } })).status, 200);
  assert.equal((await mtls(sleepLeaf, '/headers', { headers: { authorization: 'Bearer deadbeef' } })).status, 401);
  assert.equal((await mtls(sleepLeaf, '/headers')).status, 403);
});

test('a malformed inbound policy is NACKed and the last good one keeps being enforced', async () => {
  assert.equal((await apply(policy({ authz: [{ name: 'AuthorizationPolicy/default/allow-nothing', action: 'ALLOW', rules: [] }] }))).ok, true);
  const nack = await apply({ mtls: { mode: 'SOMETIMES' as 'STRICT' }, authz: [], jwt: [] });
  assert.equal(nack.ok, false);
  assert.match(nack.error ?? '', /inboundPolicy\.mtls\.mode/);
  assert.equal((await mtls(sleepLeaf, '/get')).status, 403);
});
