// The outbound listener: plain HTTP on loopback where the app's requests arrive, either in
// proxy form (apps with HTTP_PROXY) or origin form with a Host header (transparent capture).
// The destination port picks the route configuration (`"9080"`), then the route's chain
// forwards over mTLS to an endpoint of the chosen cluster.

import http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CompiledRouteTable } from './compile.js';
import type { DataPlane } from './data-plane.js';
import type { Exchange, Service } from './exchange.js';
import { newExchange, stack } from './exchange.js';
import { requestHasBody, stripHopByHop } from './headers.js';
import { normalizeLayer } from './layers/normalize.js';
import { routeLayer } from './layers/route.js';
import { telemetryLayer } from './layers/telemetry.js';
import { unknownHostService } from './passthrough.js';
import { PEER_HEADER } from './peer.js';
import { serveExchange } from './serve.js';
import { statsLayer } from './stats.js';
import { hardenServer, listenOn, type ListeningServer } from './listen.js';
import { closeTunnels, isWebSocketUpgrade, planeUpgrades, refuseUpgrade, serveUpgrade } from './upgrade.js';

/** `reviews:9080` -> `9080`; no port -> `80` (the route configuration's name). */
export function destinationPort(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.endsWith(']')) return '80';
  return authority.slice(colon + 1);
}

/** The listener stack outbound and gateway listeners share; they differ in how they pick the
 *  route table. */
export function outboundService(plane: DataPlane, table: (ex: Exchange) => CompiledRouteTable | undefined, opts: { passthrough?: boolean; upgrade?: boolean } = {}): Service {
  // Upgrades (WebSocket) take the same layers and end in the upgrade forwarder (upgrade.ts).
  const upgrades = opts.upgrade ? planeUpgrades(plane) : undefined;
  const unknownHost = upgrades ? upgrades.unknownHost : unknownHostService(plane);
  return stack([
    statsLayer(plane.counters),
    telemetryLayer({ reporter: plane.telemetry, kind: 'source', self: () => plane.selfPeer() }),
    normalizeLayer,
    routeLayer({ table, ...(opts.passthrough ? { unknownHost } : {}) }),
  ], upgrades ? upgrades.dispatch : plane.dispatch);
}

/** Headers every request leaving this workload carries; what the app sent cannot spoof them. */
export function prepareOutboundHeaders(plane: DataPlane, ex: Exchange): void {
  const h = ex.headers;
  ex.hasBody = requestHasBody(h);
  stripHopByHop(h);
  delete h['x-forwarded-for'];
  delete h['x-forwarded-client-cert'];
  if (h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
  h[PEER_HEADER] = plane.peerHeader;
}

export function createOutboundServer(plane: DataPlane, tunnels: Set<Duplex> = new Set()): http.Server {
  const table = (ex: Exchange) => plane.current?.routeTables.get(destinationPort(ex.authority));
  const service = outboundService(plane, table, { passthrough: true });
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const ex = newExchange(req, 'outbound', performance.now());
    prepareOutboundHeaders(plane, ex);
    serveExchange(ex, service, res, plane.log);
  });
  hardenServer(server);
  const upgrades = outboundService(plane, table, { passthrough: true, upgrade: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isWebSocketUpgrade(req)) { refuseUpgrade(socket, 403, 'upgrade failed: only websocket upgrades are proxied\n'); return; }
    const ex = newExchange(req, 'outbound', performance.now());
    prepareOutboundHeaders(plane, ex);
    serveUpgrade(ex, upgrades, socket, head, plane.log, tunnels);
  });
  return server;
}

export async function startOutbound(plane: DataPlane, host: string, port: number): Promise<ListeningServer> {
  const tunnels = new Set<Duplex>();
  const l = await listenOn(createOutboundServer(plane, tunnels), host, port);
  // Tunnels are not HTTP connections any more: the server would wait for them forever.
  return { ...l, close: (graceMs) => { closeTunnels(tunnels); return l.close(graceMs); } };
}
