// The terminal service: forwards one attempt to the chosen endpoint with one `http.request`
// (or `https.request`) over the cluster's keep-alive agent (mTLS or plain), and hands back the
// response head so the layers above decide (retry, or stream it to the client).
//
// Not http-proxy (it was here until the data-plane work of issue 8): for our use it did one
// `http.request` too, but behind four passes, a copy of the headers, a url join, its own
// listeners on the client request, and a `pipe` of every request into the upstream one, so a
// GET without a body was only ended on a later tick after the client's 'end'. What it did for
// us is kept here: DELETE/OPTIONS without a body carry `content-length: 0` (its deleteLength
// pass); the path sent is exactly the normalised `ex.path` (normalisation already merged the
// slashes its url join would have); no X-Forwarded-* (xfwd was off); hop-by-hop headers were
// stripped before we get here; every error ends the attempt, classified. WebSocket upgrades
// have their own terminal (upgrade.ts).

import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Exchange, Failure, ProxyResponse, Service } from './exchange.js';
import { localResponse } from './exchange.js';
import type { UpstreamAgents } from './agents.js';
import type { CompiledCluster } from './compile.js';
import type { ShadowRequest } from './layers/mirror.js';
import { stripHopByHop } from './headers.js';
import { PEER_HEADER } from './peer.js';

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL',
  'ERR_MESH_SAN_MISMATCH', 'ERR_MESH_CONNECT_TIMEOUT', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function classifyUpstreamError(err: NodeJS.ErrnoException, connected: boolean): 'connect-failure' | 'reset' {
  const code = err.code ?? '';
  if (CONNECT_ERRORS.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'connect-failure';
  return connected ? 'reset' : 'connect-failure';
}

export function failureResponse(f: Failure): ProxyResponse {
  switch (f) {
    case 'connect-failure':
      return localResponse(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure\n', 'UF', f);
    case 'reset':
      return localResponse(503, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination\n', 'UC', f);
    case 'timeout':
      return localResponse(504, 'upstream request timeout\n', 'UT', f);
    case 'downstream-gone':
      return localResponse(499, 'client went away\n', 'DC', f);
    case 'no-healthy-upstream':
      return localResponse(503, 'no healthy upstream\n', 'UH', f);
    case 'overflow':
      return localResponse(503, 'upstream overflow\n', 'UO', f);
  }
}

class Attempt {
  settled = false;
  connected = false;
  cancelled: Failure | undefined;
  proxyReq: ClientRequest | undefined;
  timer: NodeJS.Timeout | undefined;
  constructor(readonly ex: Exchange, readonly settle: (r: ProxyResponse) => void, readonly connectTimeoutMs: number, readonly staleRetry: boolean) {}

  done(r: ProxyResponse): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.settle(r);
  }

  cancel(why: Failure): void {
    if (this.settled) return;
    this.cancelled = why;
    this.proxyReq?.destroy();
    this.done(failureResponse(why));
  }
}

export interface ForwarderOptions {
  agents: UpstreamAgents;
  log: Logger;
}

export interface Forwarder {
  service: Service;
  /** Mirroring: sends a copy to an endpoint of `cluster` and drops the answer. */
  shadow(cluster: CompiledCluster, req: ShadowRequest): void;
  readonly shadowStats: { sent: number; failed: number; noEndpoint: number };
  close(): void;
}

/** A mirrored request that has not answered by then is abandoned. */
const SHADOW_TIMEOUT_MS = 30_000;

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const { agents, log } = opts;
  const requestsPerSocket = new WeakMap<Socket, number>();
  const shadowStats = { sent: 0, failed: 0, noEndpoint: 0 };
  const fail = (a: Attempt, err: NodeJS.ErrnoException): void => {
    if (a.settled) return;
    const kind = classifyUpstreamError(err, a.connected);
    const reused = a.proxyReq?.reusedSocket === true;
    // A keep-alive socket the server closed just as we reused it: replay once, transparently,
    // when the request can be replayed (Node's documented race; Envoy does the same).
    if (kind === 'reset' && reused && !a.staleRetry && (!a.ex.hasBody || a.ex.bufferedBody)) {
      a.settled = true;
      if (a.timer) clearTimeout(a.timer);
      forward(a.ex, true).then(a.settle, () => a.settle(failureResponse('reset')));
      return;
    }
    log.debug({ err, code: err.code, endpoint: a.ex.endpoint?.key, kind }, 'upstream attempt failed');
    a.done(failureResponse(kind));
  };

  /** The request has a socket: count it toward maxRequestsPerConnection, and time the connect. */
  const onSocket = (a: Attempt, proxyReq: ClientRequest, socket: Socket): void => {
    // connectionPool.http.maxRequestsPerConnection: the Nth request on a socket is its last.
    const perConnection = a.ex.cluster?.def.connectionPool?.maxRequestsPerConnection;
    if (perConnection && perConnection > 0) {
      const n = (requestsPerSocket.get(socket) ?? 0) + 1;
      requestsPerSocket.set(socket, n);
      if (n >= perConnection) proxyReq.shouldKeepAlive = false;
    }
    if (!socket.connecting) { a.connected = true; return; }
    const secure = 'encrypted' in socket;
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      a.connected = true;
      if (a.timer) { clearTimeout(a.timer); a.timer = undefined; }
    });
    if (a.connectTimeoutMs > 0 && !a.settled) {
      a.timer = setTimeout(() => {
        const err = Object.assign(new Error('upstream connect timeout'), { code: 'ERR_MESH_CONNECT_TIMEOUT' });
        proxyReq.destroy(err);
        fail(a, err);
      }, a.connectTimeoutMs);
    }
  };

  const onResponse = (a: Attempt, proxyRes: IncomingMessage): void => {
    if (a.settled) { proxyRes.destroy(); return; }
    const headers = proxyRes.headers as OutgoingHttpHeaders;
    stripHopByHop(headers);
    a.done({ status: proxyRes.statusCode ?? 502, headers, body: proxyRes });
  };

  function forward(ex: Exchange, staleRetry: boolean): Promise<ProxyResponse> {
    const cluster = ex.cluster;
    const ep = ex.endpoint;
    if (!cluster || !ep) return Promise.resolve(failureResponse('no-healthy-upstream'));
    const agent = agents.agentFor(cluster);
    if (!agent) return Promise.resolve(localResponse(503, 'no workload certificate yet\n', 'UF', 'connect-failure'));
    return new Promise<ProxyResponse>((resolve) => {
      const a = new Attempt(ex, resolve, cluster.def.connectTimeoutMs ?? 0, staleRetry);
      ex.cancelAttempt = (why) => a.cancel(why);
      // What goes after the head: nothing, the buffered body (replayable), or the client's stream.
      let stream = false;
      if (ex.bufferedBody) {
        ex.requestBytes = ex.bufferedBody.length;
      } else if (!ex.hasBody) {
        ex.bodyConsumed = true;
      } else if (ex.bodyConsumed) {
        // A streamed body cannot be replayed (the retry layer never asks; be safe anyway).
        a.done(failureResponse('reset'));
        return;
      } else {
        ex.bodyConsumed = true;
        stream = true;
        const cl = Number(ex.headers['content-length']);
        if (Number.isInteger(cl)) ex.requestBytes = cl;
        else ex.req.on('data', (c: Buffer) => { ex.requestBytes += c.length; });
      }
      const h = ex.headers;
      // Workload metadata is for mesh peers only; a plain upstream is outside the mesh.
      if (!cluster.mtls && ex.direction !== 'inbound') delete h[PEER_HEADER];
      // http-proxy's deleteLength: some servers wait for a body on these without a length.
      if ((ex.method === 'DELETE' || ex.method === 'OPTIONS') && h['content-length'] === undefined) {
        h['content-length'] = '0';
        delete h['transfer-encoding'];
      }
      let proxyReq: ClientRequest;
      try {
        proxyReq = (cluster.mtls ? https : http).request({
          host: ep.endpoint.address,
          port: ep.endpoint.port,
          method: ex.method,
          // The normalised string is what goes on the wire (see the header comment).
          path: ex.path,
          headers: h,
          agent,
        });
      } catch (err) {
        // Node throws synchronously on headers or paths it refuses to send.
        log.warn({ err }, 'upstream request refused by Node');
        a.done(localResponse(400, 'request cannot be forwarded\n'));
        return;
      }
      a.proxyReq = proxyReq;
      proxyReq.on('error', (err) => fail(a, err as NodeJS.ErrnoException));
      proxyReq.once('socket', (s: Socket) => onSocket(a, proxyReq, s));
      proxyReq.once('response', (r: IncomingMessage) => onResponse(a, r));
      if (stream) {
        // The client's body flows as it arrives; a client that fails mid-body fails the attempt.
        ex.req.on('error', (err) => fail(a, err as NodeJS.ErrnoException));
        ex.req.pipe(proxyReq);
      } else {
        proxyReq.end(ex.bufferedBody);
      }
    });
  }

  function shadow(cluster: CompiledCluster, r: ShadowRequest): void {
    const ep = cluster.balancer.pick();
    const agent = ep ? agents.agentFor(cluster) : undefined;
    if (!ep || !agent) { shadowStats.noEndpoint++; return; }
    const headers: OutgoingHttpHeaders = { ...r.headers };
    if (!cluster.mtls) delete headers[PEER_HEADER];
    if (r.body) headers['content-length'] = r.body.length;
    const mod = cluster.mtls ? https : http;
    shadowStats.sent++;
    try {
      const req = mod.request({ host: ep.endpoint.address, port: ep.endpoint.port, method: r.method, path: r.path, headers, agent }, (res) => res.resume());
      req.setTimeout(SHADOW_TIMEOUT_MS, () => req.destroy());
      req.on('error', (err) => {
        shadowStats.failed++;
        log.debug({ err, cluster: cluster.name }, 'mirrored request failed');
      });
      req.end(r.body);
    } catch (err) {
      shadowStats.failed++;
      log.debug({ err, cluster: cluster.name }, 'mirrored request refused by Node');
    }
  }

  return {
    service: (ex) => forward(ex, false),
    shadow,
    shadowStats,
    close() {},
  };
}
