// The forwarder (the terminal service, one http.request per attempt since issue 8 replaced
// http-proxy on the hot path) against a real local upstream: what it sends (method, exact
// path, headers, bodies, DELETE's content-length: 0), what it hands back (status, headers
// without hop-by-hop, the streamed body), and how it fails (connect failure, reset, cancel).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { clusterName, createLogger, type ProxyConfig } from '#api';
import { compileProxyConfig, type CompiledCluster } from '../../sidecar/src/compile.js';
import { UpstreamAgents } from '../../sidecar/src/agents.js';
import { createForwarder } from '../../sidecar/src/forward.js';
import { newExchange, type Exchange, type ProxyResponse } from '../../sidecar/src/exchange.js';
import { PEER_HEADER } from '../../sidecar/src/peer.js';
import { freePort } from '../support/wait.js';

const log = createLogger('forward-test', 'silent');
interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }
const seen: Seen[] = [];
let upstream: http.Server;
let port = 0;
const agents = new UpstreamAgents();
const forwarder = createForwarder({ agents, log });

before(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === '/reset') { req.socket.destroy(); return; }
      if (req.url === '/hang') return;
      res.writeHead(201, { 'content-type': 'text/plain', 'x-up': 'yes', 'keep-alive': 'timeout=5' });
      res.end(`${req.method} ${req.url} ${chunks.length ? Buffer.concat(chunks).toString() : '-'}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as AddressInfo).port;
});

after(async () => {
  forwarder.close();
  agents.close();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

function plainCluster(target: number, connectTimeoutMs = 1000): CompiledCluster {
  const name = clusterName('outbound', 80, '', 'up.default.svc.cluster.local');
  const cfg: ProxyConfig = {
    node: { id: 'p', kind: 'sidecar', workload: 'w', namespace: 'default', serviceAccount: 'sa', labels: {} },
    listeners: [], routes: [],
    clusters: [{ name, type: 'STATIC', service: 'up.default.svc.cluster.local', port: 80, protocol: 'HTTP', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs, tls: { mode: 'DISABLE' } }],
    endpoints: [{ cluster: name, endpoints: [{ address: '127.0.0.1', port: target, healthy: true, workload: 'up', labels: {} }] }],
    outboundTrafficPolicy: 'ALLOW_ANY',
  };
  return compileProxyConfig(cfg, 'v').clusters.get(name)!;
}

function exchange(cluster: CompiledCluster, method: string, path: string, headers: http.IncomingHttpHeaders = {}, body?: Readable): Exchange {
  const req = (body ?? new PassThrough()) as unknown as http.IncomingMessage;
  Object.assign(req, { method, url: path, headers: { host: 'up:80', ...headers } });
  const ex = newExchange(req, 'outbound', performance.now());
  ex.authority = 'up:80';
  ex.path = path;
  ex.cluster = cluster;
  ex.endpoint = cluster.endpoints[0]!;
  ex.hasBody = headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined;
  return ex;
}

async function text(r: ProxyResponse): Promise<string> {
  if (typeof r.body === 'string' || r.body === undefined) return r.body ?? '';
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('a GET goes out as sent (exact path, headers, no X-Forwarded-*), the answer comes back without hop-by-hop headers', async () => {
  const c = plainCluster(port);
  const ex = exchange(c, 'GET', '/a/b?x=1&y=%2F', { 'x-request-id': 'r1', [PEER_HEADER]: 'meta' });
  const r = await forwarder.service(ex);
  assert.equal(r.status, 201);
  assert.equal(r.headers['x-up'], 'yes');
  assert.equal(r.headers['keep-alive'], undefined);
  assert.equal(await text(r), 'GET /a/b?x=1&y=%2F -');
  const s = seen.at(-1)!;
  assert.equal(s.url, '/a/b?x=1&y=%2F');
  assert.equal(s.headers.host, 'up:80');
  assert.equal(s.headers['x-request-id'], 'r1');
  assert.equal(s.headers['x-forwarded-for'], undefined);
  assert.equal(s.headers[PEER_HEADER], undefined, 'workload metadata never leaves the mesh on a plain cluster');
});

test('DELETE without a body carries content-length: 0; a buffered body is sent and can be sent again', async () => {
  const c = plainCluster(port);
  await text(await forwarder.service(exchange(c, 'DELETE', '/d')));
  assert.equal(seen.at(-1)!.headers['content-length'], '0');
  const ex = exchange(c, 'POST', '/p', { 'content-length': '5' });
  ex.bufferedBody = Buffer.from('hello');
  assert.equal(await text(await forwarder.service(ex)), 'POST /p hello');
  assert.equal(await text(await forwarder.service(ex)), 'POST /p hello', 'a retry replays the buffered body');
  assert.equal(ex.requestBytes, 5);
});

test('a streamed body flows through once; a second attempt is refused as a reset', async () => {
  const c = plainCluster(port);
  const body = new PassThrough();
  const ex = exchange(c, 'PUT', '/s', { 'transfer-encoding': 'chunked' }, body);
  const p = forwarder.service(ex);
  body.write('ab');
  body.end('cd');
  assert.equal(await text(await p), 'PUT /s abcd');
  assert.equal(ex.requestBytes, 4);
  const again = await forwarder.service(ex);
  assert.equal(again.status, 503);
  assert.equal(again.failure, 'reset');
});

test('connect failures, resets and cancellations are classified', async () => {
  const closed = await freePort();
  const refused = await forwarder.service(exchange(plainCluster(closed), 'GET', '/'));
  assert.equal(refused.failure, 'connect-failure');
  assert.equal(refused.flag, 'UF');
  const reset = await forwarder.service(exchange(plainCluster(port), 'GET', '/reset'));
  assert.equal(reset.failure, 'reset');
  assert.equal(reset.flag, 'UC');
  const ex = exchange(plainCluster(port), 'GET', '/hang');
  const p = forwarder.service(ex);
  await new Promise<void>((r) => { const t = setInterval(() => { if (seen.at(-1)?.url === '/hang') { clearInterval(t); r(); } }, 5); });
  ex.cancelAttempt!('timeout');
  const timedOut = await p;
  assert.equal(timedOut.status, 504);
  assert.equal(timedOut.flag, 'UT');
});
