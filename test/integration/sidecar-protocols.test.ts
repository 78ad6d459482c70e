// Protocols through the mesh (issue 4 point 4): WebSocket and TCP through two real sidecars
// over mTLS with certificates from a test CA, a real nats-server and a fake pilot on the bus
// that pushes ProxyConfigs directly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import {
  clusterName, connectBus, createLogger, spiffeId, subjects,
  type Bus, type CheckRequest, type CheckResponse, type ConfigAck, type ConfigPush, type ProxyAnnouncement, type ProxyConfig, type ReportBatch, type ReportRecord,
} from '#api';
import { startNats, type NatsServer } from '../support/nats.js';
import { freePort, waitFor } from '../support/wait.js';
import { createTestCa, issueLeaf, type TestCa } from '../support/certs.js';
import { reviewsConfig, endpoint } from '../support/sidecar-config.js';
import { startWsEchoServer, wsConnect, type WsEchoServer } from '../support/websocket.js';
import { startSidecar, type Sidecar } from '../../sidecar/src/sidecar.js';
import { staticIdentity } from '../../sidecar/src/tls-identity.js';
import { parseAppPorts, type WorkloadSpec } from '../../sidecar/src/workload.js';
import type { TcpUpstream } from '../../sidecar/src/tcp/outbound.js';
import { buildTcpEcho } from '../../services/src/tcp-echo/echo.js';

const log = createLogger('sidecar-protocols-test', 'silent');
const PRODUCTPAGE = spiffeId('default', 'bookinfo-productpage');
const TCP_ECHO = 'tcp-echo.default.svc.cluster.local';
const TCP_ECHO_SA = spiffeId('default', 'tcp-echo');

let nats: NatsServer;
let ca: TestCa;
let pilotBus: Bus;
const buses: Bus[] = [];
const sidecars: Sidecar[] = [];
const acks: ConfigAck[] = [];
const records: ReportRecord[] = [];
/** A fake mixer: the checks it was asked, and whether it denies TCP connections. */
const checks: CheckRequest[] = [];
let mixerDeniesTcp = false;
let nonce = 0;
let wsV1: WsEchoServer;
let wsV2: WsEchoServer;
let client: Sidecar;
let reviewsV1: Sidecar;
let reviewsV2: Sidecar;
let echoApp: net.Server;
let h2App: http2.Http2Server;
let tcpServer: Sidecar;

function workload(name: string, sa: string, labels: Record<string, string>, services: string[], appPorts: string): WorkloadSpec {
  const id = spiffeId('default', sa);
  return {
    kind: 'sidecar', proxyId: `${name}-proto1.default`, name, namespace: 'default', serviceAccount: sa, labels, services,
    ports: parseAppPorts(appPorts), gatewayPortMap: new Map(), spiffeId: id,
    peer: { workload: name, namespace: 'default', app: labels.app ?? name, version: labels.version ?? 'unknown', principal: id },
  };
}

async function sidecar(w: WorkloadSpec, tcpUpstreams?: TcpUpstream[], withPolicy = false): Promise<Sidecar> {
  const bus = await connectBus({ servers: nats.url, name: w.proxyId, log });
  buses.push(bus);
  const s = await startSidecar({
    workload: w, bus, identity: staticIdentity(issueLeaf(ca, w.spiffeId)), log,
    inbound: { bind: '127.0.0.1', port: 0, advertise: '127.0.0.1' },
    outbound: { bind: '127.0.0.1', port: 0 },
    gatewayBind: '127.0.0.1',
    register: true,
    heartbeatMs: 60_000,
    reportBatchMs: 20,
    reportBuffer: 1000,
    ...(tcpUpstreams ? { tcpUpstreams } : {}),
    ...(withPolicy ? { policy: { failOpen: false, timeoutMs: 2000, cacheSize: 100, retryAfterMs: 0, clientSide: false } } : {}),
  });
  sidecars.push(s);
  return s;
}

async function push(proxyId: string, config: ProxyConfig): Promise<ConfigAck> {
  const n = `n${++nonce}`;
  const msg: ConfigPush = { proxyId, version: `v${nonce}`, nonce: n, sentAt: new Date().toISOString(), config };
  pilotBus.publish(subjects.proxyConfig(proxyId), msg);
  const ack = await waitFor(() => acks.find((a) => a.nonce === n), { what: `ack of ${n}` });
  assert.equal(ack.ok, true, `config ${n} ACKed`);
  return ack;
}

function clientConfig(opts: { v1?: boolean; tcpSans?: string[] } = {}): ProxyConfig {
  const c = reviewsConfig(client.plane.workload.proxyId, {
    v1: opts.v1 === false ? [] : [endpoint('127.0.0.1', reviewsV1.ports.inbound!, 'v1')],
    v2: [endpoint('127.0.0.1', reviewsV2.ports.inbound!, 'v2')],
  });
  // tcp-echo:9000, as pilot generates it for a `tcp-` port: a cluster and a TCP listener.
  for (const port of [9000, 9001]) {
    const echo = clusterName('outbound', port, '', TCP_ECHO);
    c.clusters.push({
      name: echo, type: 'EDS', service: TCP_ECHO, port, protocol: 'TCP', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000,
      tls: { mode: 'ISTIO_MUTUAL', subjectAltNames: opts.tcpSans ?? [TCP_ECHO_SA] },
    });
    c.endpoints.push({ cluster: echo, endpoints: [{ address: '127.0.0.1', port: tcpServer.ports.inbound!, healthy: true, workload: 'tcp-echo-v1', labels: { app: 'tcp-echo', version: 'v1' }, identity: TCP_ECHO_SA }] });
    c.listeners.push({ name: `${TCP_ECHO}_${port}`, kind: 'outbound', port, protocol: 'TCP', cluster: echo, service: TCP_ECHO });
  }
  return c;
}

interface TcpExchange { received: string; closedBy: 'peer' | 'error'; }

/** Connects, sends `text`, ends its side, and collects everything until the socket closes. */
function tcpExchange(port: number, text: string, opts: { end?: boolean; endAfterWrite?: boolean } = {}): Promise<TcpExchange> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    if (opts.endAfterWrite) { s.end(text); text = ''; }
    let received = '';
    let errored = false;
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      received += c;
      if (opts.end !== false && received.endsWith('\n')) s.end();
    });
    s.on('error', () => { errored = true; });
    s.on('close', () => resolve({ received, closedBy: errored ? 'error' : 'peer' }));
    if (text) s.write(text);
  });
}

function tcpUpstreamPort(): number {
  return client.ports.tcp![`${TCP_ECHO}:9000`]!;
}

/** A server sidecar's own config: only its inbound policy matters here. */
function serverConfig(s: Sidecar, inboundPolicy: ProxyConfig['inboundPolicy']): ProxyConfig {
  const w = s.plane.workload;
  return {
    node: { id: w.proxyId, kind: 'sidecar', workload: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount, labels: w.labels },
    listeners: [{ name: 'virtualInbound', kind: 'inbound', port: 15006, protocol: 'HTTP' }],
    routes: [], clusters: [], endpoints: [],
    outboundTrafficPolicy: 'REGISTRY_ONLY',
    ...(inboundPolicy ? { inboundPolicy } : {}),
  };
}

/** Waits until no listener of `s` holds more sockets than it had at `baseline` (a socket of an
 *  earlier test may still be closing then, so at most, not exactly). */
async function connectionsBackTo(s: Sidecar, baseline: Record<string, number>, what: string): Promise<void> {
  await waitFor(async () => {
    const now = await s.connections();
    return Object.keys(baseline).every((k) => now[k]! <= baseline[k]!) ? now : undefined;
  }, { what: `${what}: sockets released (baseline ${JSON.stringify(baseline)})`, timeoutMs: 10_000 });
}

before(async () => {
  nats = await startNats();
  ca = createTestCa();
  pilotBus = await connectBus({ servers: nats.url, name: 'fake pilot', log });
  pilotBus.subscribe<ProxyAnnouncement>(subjects.proxyAnnounce, (m) => { m.respond({ ok: true }); });
  pilotBus.subscribe<ConfigAck>(subjects.proxyAck, (m) => { acks.push(m.data); });
  pilotBus.subscribe<ReportBatch>(subjects.telemetryReport, (m) => { records.push(...m.data.records); });
  pilotBus.subscribe<CheckRequest>(subjects.policyCheck, (m) => {
    checks.push(m.data);
    const deny = mixerDeniesTcp && m.data.protocol === 'tcp';
    const res: CheckResponse = deny
      ? { allowed: false, code: 'PERMISSION_DENIED', message: 'PERMISSION_DENIED:denytcp.denier:no tcp', validDurationMs: 0, validUseCount: 0 }
      : { allowed: true, validDurationMs: 0, validUseCount: 0 };
    m.respond(res);
  });
  await pilotBus.flush();
  wsV1 = await startWsEchoServer('v1');
  wsV2 = await startWsEchoServer('v2');
  echoApp = buildTcpEcho('hello v1');
  await new Promise<void>((r) => echoApp.listen(0, '127.0.0.1', r));
  // An h2c (cleartext HTTP/2, as gRPC speaks it) server on a `tcp-` port of the same workload.
  h2App = http2.createServer((req, res) => {
    res.setHeader('content-type', 'application/grpc');
    res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' });
    res.end(`h2 ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => h2App.listen(0, '127.0.0.1', r));
  const ports = `tcp:9000:${(echoApp.address() as AddressInfo).port},tcp-grpc:9001:${(h2App.address() as AddressInfo).port}`;
  tcpServer = await sidecar(workload('tcp-echo-v1', 'tcp-echo', { app: 'tcp-echo', version: 'v1' }, ['tcp-echo'], ports), undefined, true);
  client = await sidecar(workload('productpage-v1', 'bookinfo-productpage', { app: 'productpage', version: 'v1' }, [], ''), [
    { host: TCP_ECHO, port: 9000, localPort: 0 },
    { host: TCP_ECHO, port: 9001, localPort: 0 },
  ]);
  reviewsV1 = await sidecar(workload('reviews-v1', 'bookinfo-reviews', { app: 'reviews', version: 'v1' }, ['reviews'], `http:9080:${wsV1.port}`));
  reviewsV2 = await sidecar(workload('reviews-v2', 'bookinfo-reviews', { app: 'reviews', version: 'v2' }, ['reviews'], `http:9080:${wsV2.port}`));
  await push(client.plane.workload.proxyId, clientConfig());
});

after(async () => {
  for (const s of sidecars) await s.stop();
  for (const b of buses) await b.close();
  await pilotBus.close();
  await wsV1.close();
  await wsV2.close();
  await new Promise((r) => echoApp.close(r));
  await new Promise((r) => h2App.close(r));
  await nats.stop();
});

test('WebSocket through two sidecars over mTLS: frames both ways, close propagates, sockets released', async (t) => {
  const clientBase = await client.connections();
  const serverBase = await reviewsV1.connections();
  const seen = wsV1.upgrades.length;

  const ws = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws?room=1');
  assert.equal(ws.status, 101);
  assert.equal((await ws.next()).payload.toString(), 'hello v1', 'the default route picks subset v1');
  for (const text of ['one', 'two', 'x'.repeat(3000)]) {
    ws.sendText(text);
    const f = await ws.next();
    assert.equal(f.opcode, 1);
    assert.equal(f.payload.toString(), `echo:${text}`);
  }
  const started = performance.now();
  for (let i = 0; i < 200; i++) {
    ws.sendText(`m${i}`);
    assert.equal((await ws.next()).payload.toString(), `echo:m${i}`);
  }
  t.diagnostic(`200 sequential WebSocket round trips through two sidecars: ${((performance.now() - started) / 200).toFixed(2)} ms each (loaded machine)`);
  // While the tunnel is open, each sidecar holds its end of it.
  assert.ok((await client.connections()).outbound! > clientBase.outbound!, 'the tunnel is open on the client sidecar');
  assert.ok((await reviewsV1.connections()).inbound! > serverBase.inbound!, 'the tunnel is open on the server sidecar');

  const h = wsV1.upgrades[seen]!;
  assert.match(String(h['x-forwarded-client-cert']), new RegExp(`URI=${PRODUCTPAGE}$`), 'the app sees the mTLS peer');
  assert.equal(h['x-mesh-peer'], undefined);
  assert.equal(h.upgrade, 'websocket');

  const close = ws.close();
  const closeFrame = await ws.next().catch(() => undefined);
  await close;
  assert.equal(closeFrame?.opcode, 8, 'the app answered the close frame through the tunnel');
  await connectionsBackTo(client, clientBase, 'client sidecar');
  await connectionsBackTo(reviewsV1, serverBase, 'server sidecar');
  await waitFor(() => wsV1.open.size === 0, { what: 'app socket closed' });

  // Telemetry: one record per side at close, response code 101, with the tunnel's bytes.
  const source = await waitFor(() => records.find((r) => r.reporter === 'source' && r.path === '/ws' && r.responseCode === 101), { what: 'source record' });
  const dest = await waitFor(() => records.find((r) => r.reporter === 'destination' && r.path === '/ws' && r.responseCode === 101), { what: 'destination record' });
  assert.equal(source.destination.service, 'reviews.default.svc.cluster.local');
  assert.equal(source.destination.workload, 'reviews-v1');
  assert.equal(source.connectionSecurityPolicy, 'mutual_tls');
  assert.equal(dest.source.principal, PRODUCTPAGE);
  assert.equal(dest.connectionSecurityPolicy, 'mutual_tls');
  assert.ok(source.requestBytes > 3000 && source.responseBytes > 3000, `bytes counted (${source.requestBytes} up, ${source.responseBytes} down)`);
});

test('WebSocket routes like HTTP: header match to subset v2, origin form under capture', async () => {
  const ws = await wsConnect(client.ports.outbound!, '/chat', { host: 'reviews.default.svc.cluster.local:9080', 'end-user': 'jason' });
  assert.equal(ws.status, 101);
  assert.equal((await ws.next()).payload.toString(), 'hello v2');
  ws.sendText('hi');
  assert.equal((await ws.next()).payload.toString(), 'echo:hi');
  await ws.close();
});

test('the app closing first closes the client; a client that vanishes releases both sidecars', async () => {
  const clientBase = await client.connections();
  const serverBase = await reviewsV1.connections();
  const ws = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws');
  assert.equal((await ws.next()).payload.toString(), 'hello v1');
  for (const s of wsV1.open) s.destroy();
  await ws.closed;
  await connectionsBackTo(client, clientBase, 'client sidecar after the app left');
  await connectionsBackTo(reviewsV1, serverBase, 'server sidecar after the app left');

  const ws2 = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws');
  assert.equal((await ws2.next()).payload.toString(), 'hello v1');
  ws2.socket!.destroy();
  await connectionsBackTo(client, clientBase, 'client sidecar after the client left');
  await connectionsBackTo(reviewsV1, serverBase, 'server sidecar after the client left');
  await waitFor(() => wsV1.open.size === 0, { what: 'app socket closed after the client left' });
});

test('a WebSocket denied by authorization gets 403 from the server sidecar, never a tunnel', async () => {
  await push(reviewsV1.plane.workload.proxyId, serverConfig(reviewsV1, {
    mtls: { mode: 'STRICT' },
    authz: [{ name: 'AuthorizationPolicy/default/deny-productpage', action: 'DENY', rules: [{ from: [{ principals: [{ exact: 'cluster.local/ns/default/sa/bookinfo-productpage' }] }] }] }],
    jwt: [],
  }));
  try {
    const seen = wsV1.upgrades.length;
    const ws = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws');
    assert.equal(ws.status, 403);
    assert.equal(ws.body, 'RBAC: access denied');
    assert.equal(wsV1.upgrades.length, seen, 'the app never saw the upgrade');
    // Still routable to v2, which has no policy.
    const ok = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws', { 'end-user': 'jason' });
    assert.equal(ok.status, 101);
    await ok.close();
  } finally {
    await push(reviewsV1.plane.workload.proxyId, serverConfig(reviewsV1, undefined));
  }
});

test('a WebSocket to a route without endpoints answers 503 UH; unknown hosts 502 (REGISTRY_ONLY)', async () => {
  await push(client.plane.workload.proxyId, clientConfig({ v1: false }));
  try {
    const ws = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws');
    assert.equal(ws.status, 503);
    assert.match(ws.body, /no healthy upstream/);
    const unknown = await wsConnect(client.ports.outbound!, 'http://nowhere:9080/ws');
    assert.equal(unknown.status, 502);
  } finally {
    await push(client.plane.workload.proxyId, clientConfig());
  }
  const app = await wsConnect(client.ports.outbound!, 'http://reviews:9080/reject');
  assert.equal(app.status, 426, "the app's own refusal comes back through both sidecars");
  assert.equal(app.body, 'no upgrade here\n');
  const other = await wsConnect(client.ports.outbound!, 'http://reviews:9080/ws', { upgrade: 'h2c' });
  assert.equal(other.status, 403, 'upgrades other than websocket are refused');
});

test('TCP through two sidecars over mTLS: echo both ways, telemetry opened/closed with bytes, sockets released', async () => {
  const clientBase = await client.connections();
  const serverBase = await tcpServer.connections();
  const r = await tcpExchange(tcpUpstreamPort(), 'world\n');
  assert.equal(r.received, 'hello v1 world\n');
  // Lines split across writes and several lines on one connection.
  const many = await tcpExchange(tcpUpstreamPort(), 'a\nb\nc');
  assert.equal(many.received, 'hello v1 a\nhello v1 b\nhello v1 c\n');
  await connectionsBackTo(client, clientBase, 'client sidecar (tcp)');
  await connectionsBackTo(tcpServer, serverBase, 'server sidecar (tcp)');

  const tcp = (reporter: 'source' | 'destination', event: 'opened' | 'closed') =>
    records.filter((x) => x.protocol === 'tcp' && x.reporter === reporter && x.tcpEvent === event && x.destination.service === TCP_ECHO);
  const closed = await waitFor(() => (tcp('source', 'closed').length >= 2 && tcp('destination', 'closed').length >= 2 ? true : undefined), { what: 'closed records from both sides' });
  assert.ok(closed);
  assert.equal(tcp('source', 'opened').length, 2);
  assert.equal(tcp('destination', 'opened').length, 2);
  const src = tcp('source', 'closed')[0]!;
  const dst = tcp('destination', 'closed')[0]!;
  assert.equal(src.requestBytes, 'world\n'.length);
  assert.equal(src.responseBytes, 'hello v1 world\n'.length);
  assert.equal(dst.requestBytes, 'world\n'.length);
  assert.equal(dst.responseBytes, 'hello v1 world\n'.length);
  assert.equal(src.source.workload, 'productpage-v1');
  assert.equal(src.destination.workload, 'tcp-echo-v1');
  assert.equal(src.connectionSecurityPolicy, 'mutual_tls');
  assert.equal(dst.source.principal, PRODUCTPAGE, 'the server sidecar saw the client certificate');
  assert.equal(dst.destination.workload, 'tcp-echo-v1');
  assert.equal(dst.responseCode, 0);
  assert.equal(tcp('source', 'opened')[0]!.requestBytes, 0);
});

test('TCP: 4 MiB through two sidecars arrives intact, with flow control, and is counted', async (t) => {
  const line = `${'a'.repeat(1023)}\n`;
  const lines = 4096;
  const before = records.length;
  const started = performance.now();
  const r = await tcpExchange(tcpUpstreamPort(), line.repeat(lines), { end: false, endAfterWrite: true });
  const ms = performance.now() - started;
  const expected = `hello v1 ${line}`.repeat(lines);
  assert.equal(r.received.length, expected.length);
  assert.ok(r.received === expected, 'every byte in order');
  t.diagnostic(`4 MiB up, ${(expected.length / 2 ** 20).toFixed(2)} MiB down in ${ms.toFixed(0)} ms (${((4 + expected.length / 2 ** 20) / (ms / 1000)).toFixed(1)} MiB/s both ways, loaded machine)`);
  const rec = await waitFor(() => records.slice(before).find((x) => x.protocol === 'tcp' && x.reporter === 'source' && x.tcpEvent === 'closed'), { what: 'closed record' });
  assert.equal(rec.requestBytes, line.length * lines);
  assert.equal(rec.responseBytes, expected.length);
});

test('TCP: a server presenting another SPIFFE id is refused (UF), nothing is sent', async () => {
  await push(client.plane.workload.proxyId, clientConfig({ tcpSans: [spiffeId('default', 'someone-else')] }));
  try {
    const before = records.length;
    const r = await tcpExchange(tcpUpstreamPort(), 'secret\n');
    assert.equal(r.received, '');
    const rec = await waitFor(() => records.slice(before).find((x) => x.protocol === 'tcp' && x.reporter === 'source' && x.tcpEvent === 'closed' && x.responseFlags !== '-'), { what: 'UF record' });
    assert.equal(rec.responseFlags, 'UF');
  } finally {
    await push(client.plane.workload.proxyId, clientConfig());
  }
});

test('TCP: plaintext, a TLS client without certificate, or an SNI naming a non-TCP port are refused at the inbound', async () => {
  const plain = await tcpExchange(tcpServer.ports.inbound!, 'world\n');
  assert.equal(plain.received, '', 'STRICT: plaintext gets no answer');

  const noCert = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tcpServer.ports.inbound!, servername: `outbound_.9000_._.${TCP_ECHO}`, ca: ca.certPem, checkServerIdentity: () => undefined });
    let got = '';
    s.on('secureConnect', () => s.write('world\n'));
    s.on('data', (c: Buffer) => { got += c.toString(); });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  assert.equal(noCert, '', 'mTLS is required for TCP streams');

  const leaf = issueLeaf(ca, PRODUCTPAGE);
  const wrongPort = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tcpServer.ports.inbound!, servername: `outbound_.9999_._.${TCP_ECHO}`, key: leaf.keyPem, cert: leaf.certChainPem, ca: ca.certPem, checkServerIdentity: () => undefined });
    let got = '';
    s.on('secureConnect', () => s.write('world\n'));
    s.on('data', (c: Buffer) => { got += c.toString(); });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  assert.equal(wrongPort, '', 'a port the workload does not serve over TCP is closed');

  const direct = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tcpServer.ports.inbound!, servername: `outbound_.9000_._.${TCP_ECHO}`, key: leaf.keyPem, cert: leaf.certChainPem, ca: ca.certPem, checkServerIdentity: () => undefined });
    let got = '';
    s.on('secureConnect', () => s.end('direct\n'));
    s.on('data', (c: Buffer) => { got += c.toString(); });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
  assert.equal(direct, 'hello v1 direct\n', 'a mesh client with a certificate and the right SNI gets through');
});

test('TCP authorization: DENY by principal closes the stream; an ALLOW rule with HTTP-only fields never matches TCP', async () => {
  const deny = { name: 'AuthorizationPolicy/default/deny-pp', action: 'DENY' as const, rules: [{ from: [{ principals: [{ exact: 'cluster.local/ns/default/sa/bookinfo-productpage' }] }] }] };
  const allowGet = { name: 'AuthorizationPolicy/default/allow-get', action: 'ALLOW' as const, rules: [{ to: [{ methods: [{ exact: 'GET' }] }] }] };
  const allowPp = { name: 'AuthorizationPolicy/default/allow-pp', action: 'ALLOW' as const, rules: [{ from: [{ principals: [{ exact: 'cluster.local/ns/default/sa/bookinfo-productpage' }] }], to: [{ ports: [9000] }] }] };
  try {
    await push(tcpServer.plane.workload.proxyId, serverConfig(tcpServer, { mtls: { mode: 'STRICT' }, authz: [deny], jwt: [] }));
    assert.equal((await tcpExchange(tcpUpstreamPort(), 'world\n')).received, '', 'denied by principal');
    await push(tcpServer.plane.workload.proxyId, serverConfig(tcpServer, { mtls: { mode: 'STRICT' }, authz: [allowGet], jwt: [] }));
    assert.equal((await tcpExchange(tcpUpstreamPort(), 'world\n')).received, '', 'an HTTP-only ALLOW rule allows no TCP');
    await push(tcpServer.plane.workload.proxyId, serverConfig(tcpServer, { mtls: { mode: 'STRICT' }, authz: [allowGet, allowPp], jwt: [] }));
    assert.equal((await tcpExchange(tcpUpstreamPort(), 'world\n')).received, 'hello v1 world\n', 'ALLOW by principal and port');
  } finally {
    await push(tcpServer.plane.workload.proxyId, serverConfig(tcpServer, undefined));
  }
});

test('TCP: the server sidecar asks mixer at connection open (protocol tcp); a denial closes the stream', async () => {
  const seen = checks.length;
  assert.equal((await tcpExchange(tcpUpstreamPort(), 'world\n')).received, 'hello v1 world\n');
  const check = checks.slice(seen).find((c) => c.protocol === 'tcp');
  assert.ok(check, 'a tcp check was asked');
  assert.equal(check.destinationPort, 9000);
  assert.equal(check.source.principal, PRODUCTPAGE);
  assert.equal(check.destination.service, TCP_ECHO);
  assert.equal(check.connection?.requestedServerName, `outbound_.9000_._.${TCP_ECHO}`);
  mixerDeniesTcp = true;
  try {
    assert.equal((await tcpExchange(tcpUpstreamPort(), 'world\n')).received, '', 'denied by mixer');
  } finally {
    mixerDeniesTcp = false;
  }
  assert.equal((await tcpExchange(tcpUpstreamPort(), 'again\n')).received, 'hello v1 again\n');
});

test('TCP: without endpoints the app connection is closed (UH)', async () => {
  const cfg = clientConfig();
  cfg.endpoints = cfg.endpoints.map((e) => (e.cluster === clusterName('outbound', 9000, '', TCP_ECHO) ? { ...e, endpoints: [] } : e));
  await push(client.plane.workload.proxyId, cfg);
  try {
    const before = records.length;
    assert.equal((await tcpExchange(tcpUpstreamPort(), 'world\n')).received, '');
    const rec = await waitFor(() => records.slice(before).find((x) => x.protocol === 'tcp' && x.reporter === 'source' && x.tcpEvent === 'closed' && x.responseFlags !== '-'), { what: 'UH record' });
    assert.equal(rec.responseFlags, 'UH');
  } finally {
    await push(client.plane.workload.proxyId, clientConfig());
  }
});

test('TCP: a dead endpoint is ejected by outlier detection after a connect failure', async () => {
  const dead = await freePort();
  const cfg = clientConfig();
  const name = clusterName('outbound', 9000, '', TCP_ECHO);
  cfg.clusters = cfg.clusters.map((c) => (c.name === name ? { ...c, outlier: { consecutiveGatewayErrors: 1, intervalMs: 60_000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 100, minHealthPercent: 0 } } : c));
  cfg.endpoints = cfg.endpoints.map((e) => (e.cluster === name ? { ...e, endpoints: [{ ...e.endpoints[0]!, address: '127.0.0.1', port: dead }, ...e.endpoints] } : e));
  await push(client.plane.workload.proxyId, cfg);
  try {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await tcpExchange(tcpUpstreamPort(), `n${i}\n`)).received);
    const failed = answers.filter((a) => a === '').length;
    assert.equal(failed, 1, `one connect failure, then the dead endpoint is ejected: ${JSON.stringify(answers)}`);
    assert.ok(answers.every((a, i) => a === '' || a === `hello v1 n${i}\n`));
  } finally {
    await push(client.plane.workload.proxyId, clientConfig());
  }
});

test('gRPC-style h2c passes through a tcp- port over mTLS (L4: trailers and streams intact)', async () => {
  const session = http2.connect(`http://127.0.0.1:${client.ports.tcp![`${TCP_ECHO}:9001`]}`);
  session.on('error', () => {});
  try {
    const call = () => new Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/echo.Echo/Say', 'content-type': 'application/grpc' });
      let body = '';
      let status = 0;
      let trailers: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => { status = Number(h[':status']); });
      req.on('trailers', (t) => { trailers = t; });
      req.setEncoding('utf8');
      req.on('data', (c: string) => { body += c; });
      req.on('end', () => resolve({ status, body, trailers }));
      req.on('error', reject);
      req.end('hi');
    });
    // Two concurrent streams on one connection.
    const [a, b] = await Promise.all([call(), call()]);
    for (const r of [a, b]) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'h2 POST /echo.Echo/Say');
      assert.equal(r.trailers['grpc-status'], '0');
    }
  } finally {
    await new Promise<void>((r) => session.close(() => r()));
  }
});
