// The inbound listener. One port, two protocols: the first byte of a connection tells a TLS
// handshake (0x16) from plaintext HTTP. TLS is mTLS only (requestCert + rejectUnauthorized
// against the trust bundle); plaintext is kept only where PeerAuthentication allows it
// (PERMISSIVE, DISABLE), per service port, and never carries a trusted identity. Requests are
// authenticated (JWT), authorised (AuthorizationPolicy) on the normalised path that is then
// forwarded, given X-Forwarded-Client-Cert, and sent to the app on 127.0.0.1:targetPort chosen
// by the service port of the Host header.

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import type { DataPlane } from './data-plane.js';
import type { Exchange, Layer, Service } from './exchange.js';
import { localResponse, newExchange, stack } from './exchange.js';
import { compileProxyConfig, type CompiledCluster } from './compile.js';
import { requestHasBody, stripHopByHop } from './headers.js';
import { balanceLayer } from './layers/balance.js';
import { policyLayer } from './layers/policy.js';
import { authzLayer, type AuthzRequest } from './layers/authz.js';
import { JwksCache, jwtLayer, requestAuthOf } from './layers/jwt.js';
import { normalizeLayerWith } from './layers/normalize.js';
import { telemetryLayer } from './layers/telemetry.js';
import { inboundPolicyOf, prepareInboundPolicy } from './inbound-policy.js';
import { createSniffingServer, hardenServer, listenOn, TLS_HANDSHAKE, type ListeningServer } from './listen.js';
import { decodePeerHeader, PEER_HEADER, peerOf, xfcc } from './peer.js';
import { serveExchange } from './serve.js';
import { TcpInbound } from './tcp/inbound.js';
import { closeTunnels, isWebSocketUpgrade, planeUpgrades, refuseUpgrade, serveUpgrade } from './upgrade.js';
import { statsLayer } from './stats.js';
import type { TlsIdentity } from './tls-identity.js';
import { serviceForPort, type WorkloadSpec } from './workload.js';
import { clusterName, DEFAULT_TRUST_DOMAIN, parseSpiffeId, type PeerInfo } from '#api';

/** One local cluster per workload port (`inbound|9080||` -> 127.0.0.1:targetPort), compiled
 *  with the same code as pushed config, so inbound works before pilot has spoken. */
export function localClusters(w: WorkloadSpec): Map<string, CompiledCluster> {
  const clusters = w.ports.map((p) => ({
    name: clusterName('inbound', p.port, '', ''),
    type: 'STATIC' as const,
    protocol: p.protocol,
    lbPolicy: 'ROUND_ROBIN' as const,
    connectTimeoutMs: 1000,
    tls: { mode: 'DISABLE' as const },
    port: p.port,
  }));
  const compiled = compileProxyConfig({
    node: { id: w.proxyId, kind: w.kind, workload: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount, labels: w.labels },
    listeners: [],
    routes: [],
    clusters,
    endpoints: w.ports.map((p) => ({
      cluster: clusterName('inbound', p.port, '', ''),
      endpoints: [{ address: '127.0.0.1', port: p.targetPort, healthy: true, workload: w.name, labels: w.labels }],
    })),
    outboundTrafficPolicy: 'ALLOW_ANY',
  }, 'local');
  const byPort = new Map<string, CompiledCluster>();
  for (const p of w.ports) byPort.set(String(p.port), compiled.clusters.get(clusterName('inbound', p.port, '', ''))!);
  return byPort;
}

/** Picks the app port by the service port in the Host header, or the only port there is. */
export function inboundRouteLayer(w: WorkloadSpec): Layer {
  const clusters = localClusters(w);
  const only = clusters.size === 1 ? [...clusters.values()][0] : undefined;
  return (next) => (ex) => {
    const colon = ex.authority.lastIndexOf(':');
    const port = colon < 0 ? '80' : ex.authority.slice(colon + 1);
    const cluster = clusters.get(port) ?? only;
    if (!cluster) return Promise.resolve(localResponse(404, `no workload port for ${ex.authority}\n`, 'NR'));
    ex.cluster = cluster;
    ex.destinationService = serviceForPort(w, ex.authority);
    return next(ex);
  };
}

/** The service port a request addresses (Host header), `80` without one. */
function servicePortOf(authority: string): string {
  const colon = authority.lastIndexOf(':');
  return colon < 0 || authority.endsWith(']') ? '80' : authority.slice(colon + 1);
}

/** What authorization sees of an inbound request: the mTLS peer, addresses, ports, JWT result. */
export function authzRequestOf(ex: Exchange): AuthzRequest {
  const socket = ex.req.socket;
  const servicePort = Number(servicePortOf(ex.authority));
  const targetPort = ex.cluster?.endpoints[0]?.endpoint.port;
  const auth = requestAuthOf(ex);
  const q = ex.path.indexOf('?');
  return {
    principal: socket instanceof TLSSocket ? peerOf(socket).principal : '',
    sourceIp: socket.remoteAddress ?? '',
    destinationIp: socket.localAddress ?? '',
    method: ex.method,
    host: ex.authority,
    path: q < 0 ? ex.path : ex.path.slice(0, q),
    ports: targetPort !== undefined && targetPort !== servicePort ? [servicePort, targetPort] : [servicePort],
    headers: ex.headers,
    ...(auth ? { requestPrincipal: auth.principal, claims: auth.claims } : {}),
  };
}

/** Fetches a jwksUri through this proxy's own outbound listener, so mesh names resolve. */
export function meshFetch(plane: DataPlane): (uri: string) => Promise<string> {
  return async (uri) => {
    const outbound = plane.outboundAddress;
    const url = new URL(uri);
    if (url.protocol !== 'http:' || !outbound) {
      // https or no outbound listener (tests): fetch directly.
      const res = await fetch(uri, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`${uri} answered ${res.status}`);
      return res.text();
    }
    return new Promise<string>((resolve, reject) => {
      const req = http.request({ host: outbound.host, port: outbound.port, method: 'GET', path: uri, timeout: 5000, headers: { host: url.host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${uri} answered ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${uri} timed out`)));
      req.on('error', reject);
      req.end();
    });
  };
}

/** `terminal`: the HTTP forwarder, or the upgrade forwarder for WebSocket (upgrade.ts). */
export function inboundService(plane: DataPlane, terminal: Service = plane.forwarder.service): Service {
  const policy = () => inboundPolicyOf(plane.current).policy;
  const jwks = new JwksCache(meshFetch(plane));
  return stack([
    statsLayer(plane.counters),
    telemetryLayer({ reporter: plane.telemetry, kind: 'destination', self: () => plane.selfPeer() }),
    normalizeLayerWith(() => policy().pathNormalization),
    inboundRouteLayer(plane.workload),
    jwtLayer({
      rules: () => policy().jwt,
      keys: (rule) => jwks.keys(rule),
      onFailure: (ex, reason) => plane.log.debug({ path: ex.path, reason }, 'request authentication failed'),
    }),
    authzLayer({
      policies: () => policy().authz,
      request: authzRequestOf,
      onDecision: (ex, d) => {
        if (!d.allowed) plane.log.debug({ path: ex.path, method: ex.method, source: ex.source?.principal, policy: d.policy }, 'RBAC: access denied');
        if (d.audited) plane.log.info({ path: ex.path, method: ex.method, source: ex.source?.principal, policies: d.audited, allowed: d.allowed }, 'authorization audit');
      },
    }),
    // Mixer policy after RBAC, as Istio 1.1 orders its filters; answered from the check cache.
    ...(plane.policy ? [policyLayer({ client: plane.policy, side: 'inbound', proxyId: plane.workload.proxyId, self: () => plane.selfPeer() })] : []),
    balanceLayer,
  ], terminal);
}

function tlsOptions(id: TlsIdentity) {
  return { key: id.keyPem, cert: id.certChainPem, ca: id.rootsPem };
}

export interface InboundServers {
  /** Accepts connections and hands each to `tls` or `plain` by its first byte. */
  front: net.Server;
  tls: https.Server;
  plain: http.Server;
  /** Open WebSocket tunnels (client sockets), ended when the listener closes. */
  tunnels: Set<Duplex>;
  /** TCP streams on the inbound port. */
  tcp: TcpInbound;
}

/**
 * Istio's trust domain validation: a chain to the mesh's roots is not enough, the peer's
 * SPIFFE id must name this mesh's trust domain. A certificate the CA signed for another
 * domain, or with no SPIFFE id at all, is closed before any byte is read from it.
 */
function inTrustDomain(plane: DataPlane, socket: TLSSocket): boolean {
  const own = parseSpiffeId(plane.selfPeer().principal)?.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const principal = peerOf(socket).principal;
  if (parseSpiffeId(principal)?.trustDomain === own) return true;
  plane.log.debug({ peer: principal || '(no SPIFFE id)', trustDomain: own }, 'inbound mTLS peer outside the trust domain refused');
  socket.destroy();
  return false;
}

export function createInboundServer(plane: DataPlane): InboundServers {
  const id = plane.identity.current();
  if (!id) throw new Error('inbound listener needs a workload certificate');
  const service = inboundService(plane);
  // A malformed inbound policy NACKs the push before it replaces the one being enforced.
  plane.addApplyHooks({ prepare: async (next) => { prepareInboundPolicy(next); } });
  const tls = https.createServer({
    ...tlsOptions(id),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    keepAliveTimeout: 65_000,
  }, (req, res) => {
    const ex = newExchange(req, 'inbound', performance.now());
    prepareInboundHeaders(plane, ex);
    serveExchange(ex, service, res, plane.log);
  });
  // A new certificate or trust bundle applies to new handshakes; open connections carry on.
  plane.identity.onChange((next) => tls.setSecureContext(tlsOptions(next)));
  tls.on('tlsClientError', (err) => plane.log.debug({ err: err.message }, 'inbound TLS handshake refused'));
  // TCP streams share the mTLS port, told apart by their SNI (tcp/sni.ts): the https server's
  // own connection listener is kept for everything else.
  const tcp = new TcpInbound(plane);
  const httpOnSecure = tls.listeners('secureConnection') as ((s: TLSSocket) => void)[];
  tls.removeAllListeners('secureConnection');
  tls.on('secureConnection', (s: TLSSocket) => {
    if (!inTrustDomain(plane, s)) return;
    if (tcp.claim(s)) return;
    for (const fn of httpOnSecure) fn.call(tls, s);
  });
  hardenServer(tls);

  const plain = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    // The mode is per service port: a STRICT port refuses plaintext the way Envoy does, by
    // closing the connection without an answer.
    const host = typeof req.headers.host === 'string' ? req.headers.host : '';
    const target = req.url ?? '';
    const authority = target.startsWith('http://') ? target.slice(7).split(/[/?#]/)[0]! : host;
    if (inboundPolicyOf(plane.current).modeFor(servicePortOf(authority.toLowerCase())) === 'STRICT') {
      plane.log.debug({ authority }, 'plaintext refused on a STRICT port');
      req.socket.destroy();
      return;
    }
    const ex = newExchange(req, 'inbound', performance.now());
    prepareInboundHeaders(plane, ex);
    serveExchange(ex, service, res, plane.log);
  });
  hardenServer(plain);

  // WebSocket: the same checks as a request (mTLS peer, STRICT per port, JWT, RBAC, policy),
  // then a tunnel to the app.
  const tunnels = new Set<Duplex>();
  const upgrades = inboundService(plane, planeUpgrades(plane).forward);
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isWebSocketUpgrade(req)) { refuseUpgrade(socket, 403, 'upgrade failed: only websocket upgrades are proxied\n'); return; }
    const ex = newExchange(req, 'inbound', performance.now());
    prepareInboundHeaders(plane, ex);
    serveUpgrade(ex, upgrades, socket, head, plane.log, tunnels);
  };
  tls.on('upgrade', onUpgrade);
  plain.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = typeof req.headers.host === 'string' ? req.headers.host : '';
    if (inboundPolicyOf(plane.current).modeFor(servicePortOf(host.toLowerCase())) === 'STRICT') {
      plane.log.debug({ host }, 'plaintext upgrade refused on a STRICT port');
      socket.destroy();
      return;
    }
    onUpgrade(req, socket, head);
  });
  // Connection tracking (closeIdleConnections) starts on 'listening'; these never listen themselves.
  tls.emit('listening');
  plain.emit('listening');

  const front = createSniffingServer((socket, first) => {
    if (first[0] === TLS_HANDSHAKE) {
      // TLSSocket takes over the handle and reads the unshifted bytes itself; resuming
      // here would race it for the socket's data.
      tls.emit('connection', socket);
    } else if (inboundPolicyOf(plane.current).acceptsPlaintext) {
      plain.emit('connection', socket);
      socket.resume();
    } else {
      plane.log.debug({ peer: socket.remoteAddress }, 'plaintext connection refused (STRICT)');
      socket.destroy();
    }
  });
  return { front, tls, plain, tunnels, tcp };
}

/** What the requests of one mTLS connection share: the client sidecar sends the same peer
 *  header on each of them, and the XFCC value depends only on the peer and on this proxy; so
 *  both are decoded and built once per connection, not per request (issue 8). */
interface ConnectionPeer { header: string | undefined; by: string; source: PeerInfo; xfcc: string }
const connectionPeers = new WeakMap<TLSSocket, ConnectionPeer>();

export function prepareInboundHeaders(plane: DataPlane, ex: Exchange): void {
  const h = ex.headers;
  ex.hasBody = requestHasBody(h);
  stripHopByHop(h);
  const socket = ex.req.socket;
  const raw = h[PEER_HEADER];
  delete h[PEER_HEADER];
  if (socket instanceof TLSSocket) {
    const header = typeof raw === 'string' ? raw : undefined;
    const by = plane.selfPeer().principal;
    let c = connectionPeers.get(socket);
    if (!c || c.header !== header || c.by !== by) {
      const peer = peerOf(socket);
      const meta = decodePeerHeader(raw);
      const source: PeerInfo = meta ? { ...meta, principal: peer.principal } : { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: peer.principal };
      c = { header, by, source, xfcc: xfcc(by, peer) };
      connectionPeers.set(socket, c);
    }
    ex.source = c.source;
    h['x-forwarded-client-cert'] = c.xfcc;
  } else {
    // Plaintext: nothing the client says about itself is authenticated.
    ex.source = { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: '' };
    delete h['x-forwarded-client-cert'];
  }
  if (h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
}

export async function startInbound(plane: DataPlane, host: string, port: number): Promise<ListeningServer> {
  const s = createInboundServer(plane);
  const l = await listenOn(s.front, host, port);
  return {
    ...l,
    async close(graceMs = 2000) {
      closeTunnels(s.tunnels);
      s.tcp.closeAll();
      const closed = l.close(graceMs);
      s.tls.closeIdleConnections();
      s.plain.closeIdleConnections();
      const force = setTimeout(() => { s.tls.closeAllConnections(); s.plain.closeAllConnections(); }, graceMs);
      force.unref();
      await closed;
      clearTimeout(force);
      // Stops their connection-checking timers; they were never listening, so ignore the error.
      s.tls.close(() => {});
      s.plain.close(() => {});
    },
  };
}
