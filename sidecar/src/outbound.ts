// The outbound listener: plain HTTP on loopback where the app's requests arrive, either in
// proxy form (apps with HTTP_PROXY) or origin form with a Host header (transparent capture).
// The destination port picks the route configuration (`"9080"`), then the route's chain
// forwards over mTLS to an endpoint of the chosen cluster.

import http from 'node:http';
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

/** `reviews:9080` -> `9080`; no port -> `80` (the route configuration's name). */
export function destinationPort(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.endsWith(']')) return '80';
  return authority.slice(colon + 1);
}

/** The listener stack outbound and gateway listeners share; they differ in how they pick the
 *  route table. */
export function outboundService(plane: DataPlane, table: (ex: Exchange) => CompiledRouteTable | undefined, opts: { passthrough?: boolean } = {}): Service {
  return stack([
    statsLayer(plane.counters),
    telemetryLayer({ reporter: plane.telemetry, kind: 'source', self: () => plane.selfPeer() }),
    normalizeLayer,
    routeLayer({ table, ...(opts.passthrough ? { unknownHost: unknownHostService(plane) } : {}) }),
  ], plane.dispatch);
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

export function createOutboundServer(plane: DataPlane): http.Server {
  const service = outboundService(plane, (ex) => plane.current?.routeTables.get(destinationPort(ex.authority)), { passthrough: true });
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const ex = newExchange(req, 'outbound', performance.now());
    prepareOutboundHeaders(plane, ex);
    serveExchange(ex, service, res, plane.log);
  });
  hardenServer(server);
  return server;
}

export async function startOutbound(plane: DataPlane, host: string, port: number): Promise<ListeningServer> {
  return listenOn(createOutboundServer(plane), host, port);
}
