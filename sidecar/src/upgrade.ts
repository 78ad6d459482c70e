// WebSocket through the mesh (Envoy's `upgrade_configs: websocket`, which Istio enables): the
// upgrade request runs the same layers as any HTTP request (routing, subsets, balancing,
// faults, authorization, policy), then the terminal service here sends it upstream over the
// cluster's agent (mTLS to the server sidecar, plain to the local app) instead of http-proxy.
// A 101 answer turns the exchange into a tunnel: bytes flow both ways until either side
// closes, and both sockets are released. Any other answer (403 RBAC, 503 UH, the app's 400)
// is written to the client and the connection closed: an upgrade never hangs.
// Only `Upgrade: websocket` is tunnelled; other upgrade types get 403, as Envoy answers an
// upgrade it is not configured for.

import http, { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { UpstreamAgents } from './agents.js';
import { newEndpointStats } from './balancer.js';
import type { CompiledRoute } from './compile.js';
import { buildRouteChain, type ChainDeps } from './chain.js';
import type { DataPlane } from './data-plane.js';
import type { Exchange, ProxyResponse, Service } from './exchange.js';
import { localResponse } from './exchange.js';
import { classifyUpstreamError, failureResponse } from './forward.js';
import { stripHopByHop } from './headers.js';
import { policyLayer } from './layers/policy.js';
import { splitAuthority } from './passthrough.js';
import { PEER_HEADER } from './peer.js';
import { destroyLater, tunnel } from './tunnel.js';

/** A 101 from upstream: the raw socket and what it sent after the response head. */
export interface UpgradedResponse extends ProxyResponse {
  upgraded: { socket: Duplex; head: Buffer };
}

export function isUpgraded(r: ProxyResponse): r is UpgradedResponse {
  return (r as Partial<UpgradedResponse>).upgraded !== undefined;
}

/** `Connection: upgrade` with `Upgrade: websocket` (token lists, any case). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const up = req.headers.upgrade;
  const conn = req.headers.connection;
  return typeof up === 'string' && up.split(',').some((t) => t.trim().toLowerCase() === 'websocket')
    && typeof conn === 'string' && conn.split(',').some((t) => t.trim().toLowerCase() === 'upgrade');
}

/**
 * The terminal service for upgrades: one upgrade request to the exchange's endpoint. Resolves
 * with an UpgradedResponse on 101, the upstream's own response otherwise, or a failure
 * response (connect failure, SAN mismatch, reset) like the HTTP forwarder's.
 */
export function createUpgradeForwarder(agents: UpstreamAgents, log: Logger): Service {
  return (ex) => {
    const cluster = ex.cluster;
    const ep = ex.endpoint;
    if (!cluster || !ep) return Promise.resolve(failureResponse('no-healthy-upstream'));
    const agent = agents.agentFor(cluster);
    if (!agent) return Promise.resolve(localResponse(503, 'no workload certificate yet\n', 'UF', 'connect-failure'));
    const headers: OutgoingHttpHeaders = { ...ex.headers, connection: 'Upgrade', upgrade: 'websocket' };
    // Workload metadata is for mesh peers only.
    if (!cluster.mtls && ex.direction !== 'inbound') delete headers[PEER_HEADER];
    return new Promise<ProxyResponse>((resolve) => {
      let settled = false;
      let connected = false;
      let timer: NodeJS.Timeout | undefined;
      const done = (r: ProxyResponse) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve(r);
      };
      let req: http.ClientRequest;
      try {
        req = (cluster.mtls ? https : http).request({
          host: ep.endpoint.address, port: ep.endpoint.port, method: ex.method, path: ex.path, headers, agent,
        });
      } catch (err) {
        log.warn({ err }, 'upgrade request refused by Node');
        done(localResponse(400, 'request cannot be forwarded\n'));
        return;
      }
      ex.cancelAttempt = (why) => { req.destroy(); done(failureResponse(why)); };
      req.on('socket', (s) => {
        if (!s.connecting) { connected = true; return; }
        const secure = 'encrypted' in s;
        s.once(secure ? 'secureConnect' : 'connect', () => { connected = true; if (timer) clearTimeout(timer); });
        const ms = cluster.def.connectTimeoutMs ?? 0;
        if (ms > 0) {
          timer = setTimeout(() => req.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ERR_MESH_CONNECT_TIMEOUT' })), ms);
        }
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        log.debug({ err, code: err.code, endpoint: ep.key }, 'upgrade attempt failed');
        done(failureResponse(classifyUpstreamError(err, connected)));
      });
      req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (settled) { socket.destroy(); return; }
        done({ status: 101, headers: res.headers as OutgoingHttpHeaders, upgraded: { socket, head } } as UpgradedResponse);
      });
      req.on('response', (res: IncomingMessage) => {
        if (settled) { res.destroy(); return; }
        const h = res.headers as OutgoingHttpHeaders;
        stripHopByHop(h);
        done({ status: res.statusCode ?? 502, headers: h, body: res });
      });
      req.end();
    });
  };
}

/** Per-route chains for upgrades (the route's own layers ending in the upgrade forwarder),
 *  cached apart from the HTTP chains on the compiled route. Mirroring is left out: a copy of
 *  an upgrade would open a second tunnel. */
export function upgradeDispatch(forward: Service, deps: Omit<ChainDeps, 'forward' | 'shadow'> = {}): Service {
  const chains = new WeakMap<CompiledRoute, Service>();
  return (ex) => {
    const route = ex.route!;
    let chain = chains.get(route);
    if (!chain) chains.set(route, chain = buildRouteChain(route, { forward, ...deps }));
    return chain(ex);
  };
}

function headLines(status: number, headers: OutgoingHttpHeaders): string {
  let out = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      const s = String(one);
      if (!/[\r\n]/.test(s)) out += `${k}: ${s}\r\n`;
    }
  }
  return `${out}\r\n`;
}

/**
 * Serves one upgrade request on a listener: runs the service, then either bridges the client
 * socket with the upstream one (101) or writes the answer and closes. `tunnels` tracks open
 * client sockets so a closing listener can end them. The exchange's end hooks (stats,
 * telemetry) run once both sockets are closed, with the status answered (101 for a tunnel).
 */
export function serveUpgrade(ex: Exchange, service: Service, client: Duplex, head: Buffer, log: Logger, tunnels: Set<Duplex>): void {
  tunnels.add(client);
  let ended = false;
  const finish = (status: number) => {
    if (ended) return;
    ended = true;
    for (const fn of ex.onEnd) {
      try { fn(ex, status); } catch (err) { log.warn({ err }, 'exchange end hook failed'); }
    }
  };
  let gone = false;
  client.on('error', () => client.destroy());
  const onEarlyClose = () => {
    gone = true;
    ex.downstreamGone = true;
    if (!ex.flags.includes('DC')) ex.flags.push('DC');
    ex.cancelAttempt?.('downstream-gone');
  };
  client.once('close', onEarlyClose);
  client.once('close', () => tunnels.delete(client));

  const answer = (r: ProxyResponse) => {
    if (r.flag && !ex.flags.includes(r.flag)) ex.flags.push(r.flag);
    client.off('close', onEarlyClose);
    if (gone || client.destroyed) {
      if (isUpgraded(r)) r.upgraded.socket.destroy();
      else if (r.body && typeof r.body !== 'string') r.body.destroy();
      finish(0);
      return;
    }
    if (isUpgraded(r)) { bridge(ex, r, client, head, () => finish(101)); return; }
    const h: OutgoingHttpHeaders = { ...r.headers, connection: 'close' };
    client.once('close', () => finish(r.status));
    const body = r.body;
    if (body === undefined || typeof body === 'string') {
      const text = body ?? '';
      h['content-length'] = Buffer.byteLength(text);
      ex.responseBytes = Buffer.byteLength(text);
      client.end(headLines(r.status, h) + text);
      destroyLater(client);
      return;
    }
    // Without a content-length the body ends with the connection (transfer-encoding was hop-by-hop).
    client.write(headLines(r.status, h));
    body.on('data', (c: Buffer) => { ex.responseBytes += c.length; });
    body.on('error', () => client.destroy());
    client.once('close', () => body.destroy());
    body.once('end', () => destroyLater(client));
    body.pipe(client);
  };

  let p: Promise<ProxyResponse>;
  try {
    p = service(ex);
  } catch (err) {
    p = Promise.reject(err);
  }
  p.then(answer, (err: unknown) => {
    log.error({ err, path: ex.path }, 'upgrade layer failed');
    answer(localResponse(500, 'internal proxy error\n'));
  });
}

/** Writes the 101 to the client and pipes both ways; `onClosed` once both sockets closed. */
function bridge(ex: Exchange, r: UpgradedResponse, client: Duplex, head: Buffer, onClosed: () => void): void {
  const upstream = r.upgraded.socket;
  const h: OutgoingHttpHeaders = { ...r.headers };
  h.connection = 'Upgrade';
  h.upgrade = 'websocket';
  client.write(headLines(101, h));
  if (r.upgraded.head.length) {
    ex.responseBytes += r.upgraded.head.length;
    client.write(r.upgraded.head);
  }
  if (head.length) {
    ex.requestBytes += head.length;
    upstream.write(head);
  }
  const bytes = { up: 0, down: 0 };
  tunnel(client, upstream, bytes, () => {
    ex.requestBytes += bytes.up;
    ex.responseBytes += bytes.down;
    onClosed();
  });
}

/** Answers an upgrade the proxy does not tunnel. */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.on('error', () => socket.destroy());
  socket.end(headLines(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), connection: 'close' }) + text);
  destroyLater(socket);
}

/** Destroys every open tunnel (a closing listener). */
export function closeTunnels(tunnels: Set<Duplex>): void {
  for (const s of tunnels) s.destroy();
  tunnels.clear();
}

export interface PlaneUpgrades {
  /** Terminal service: the upgrade request to the exchange's endpoint. */
  forward: Service;
  /** Route chains ending in `forward` (outbound listener stacks end here). */
  dispatch: Service;
  /** Hosts outside the registry: ALLOW_ANY tunnels in plain to the named host, REGISTRY_ONLY 502. */
  unknownHost: (ex: Exchange) => Promise<ProxyResponse>;
}

const perPlane = new WeakMap<DataPlane, PlaneUpgrades>();

/** The upgrade services of a data plane, built once and shared by its listeners. */
export function planeUpgrades(plane: DataPlane): PlaneUpgrades {
  let u = perPlane.get(plane);
  if (u) return u;
  const forward = createUpgradeForwarder(plane.agents, plane.log);
  const dispatch = upgradeDispatch(forward, {
    onRetry: () => { plane.counters.retries++; },
    policy: () => (plane.policy && plane.policyClientSide ? policyLayer({ client: plane.policy, side: 'outbound', proxyId: plane.workload.proxyId, self: () => plane.selfPeer() }) : undefined),
  });
  const unknownHost = (ex: Exchange): Promise<ProxyResponse> => {
    const c = plane.current;
    if (!c) return Promise.resolve(localResponse(404, 'no route configuration yet\n', 'NR'));
    if (c.config.outboundTrafficPolicy === 'REGISTRY_ONLY') {
      return Promise.resolve(localResponse(502, 'outbound traffic to hosts outside the registry is blocked (REGISTRY_ONLY)\n', 'NR'));
    }
    const target = splitAuthority(ex.authority);
    if (!target) return Promise.resolve(localResponse(400, 'cannot pass through: bad authority\n'));
    ex.cluster = c.passthrough;
    ex.endpoint = {
      key: `PassthroughCluster|${target.host}:${target.port}`,
      endpoint: { address: target.host, port: target.port, healthy: true },
      stats: newEndpointStats(),
      destination: { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: '' },
    };
    ex.attempts++;
    delete ex.headers[PEER_HEADER];
    return forward(ex);
  };
  u = { forward, dispatch, unknownHost };
  perPlane.set(plane, u);
  return u;
}
