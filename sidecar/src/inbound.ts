// The inbound listener: mTLS only (requestCert + rejectUnauthorized against the trust
// bundle; plaintext fails the handshake). It learns the caller from the client certificate
// (principal) and the peer header (workload metadata), writes X-Forwarded-Client-Cert, and
// forwards to the app on 127.0.0.1:targetPort chosen by the service port of the Host header.

import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import type { DataPlane } from './data-plane.js';
import type { Exchange, Layer, Service } from './exchange.js';
import { localResponse, newExchange, stack } from './exchange.js';
import { compileProxyConfig, type CompiledCluster } from './compile.js';
import { requestHasBody, stripHopByHop } from './headers.js';
import { balanceLayer } from './layers/balance.js';
import { normalizeLayer } from './layers/normalize.js';
import { telemetryLayer } from './layers/telemetry.js';
import { hardenServer, listenOn, type ListeningServer } from './listen.js';
import { decodePeerHeader, PEER_HEADER, peerOf, xfcc } from './peer.js';
import { serveExchange } from './serve.js';
import { statsLayer } from './stats.js';
import type { TlsIdentity } from './tls-identity.js';
import { serviceForPort, type WorkloadSpec } from './workload.js';
import { clusterName } from '#api';

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

export function inboundService(plane: DataPlane): Service {
  return stack([
    statsLayer(plane.counters),
    telemetryLayer({ reporter: plane.telemetry, kind: 'destination', self: () => plane.selfPeer() }),
    normalizeLayer,
    inboundRouteLayer(plane.workload),
    balanceLayer,
  ], plane.forwarder.service);
}

function tlsOptions(id: TlsIdentity) {
  return { key: id.keyPem, cert: id.certChainPem, ca: id.rootsPem };
}

export function createInboundServer(plane: DataPlane): https.Server {
  const id = plane.identity.current();
  if (!id) throw new Error('inbound listener needs a workload certificate');
  const service = inboundService(plane);
  const server = https.createServer({
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
  plane.identity.onChange((next) => server.setSecureContext(tlsOptions(next)));
  server.on('tlsClientError', (err) => plane.log.debug({ err: err.message }, 'inbound TLS handshake refused'));
  hardenServer(server);
  return server;
}

export function prepareInboundHeaders(plane: DataPlane, ex: Exchange): void {
  const h = ex.headers;
  ex.hasBody = requestHasBody(h);
  stripHopByHop(h);
  const peer = peerOf(ex.req.socket as TLSSocket);
  const meta = decodePeerHeader(h[PEER_HEADER]);
  delete h[PEER_HEADER];
  ex.source = meta ? { ...meta, principal: peer.principal } : { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: peer.principal };
  h['x-forwarded-client-cert'] = xfcc(plane.selfPeer().principal, peer);
  if (h['x-request-id'] === undefined) h['x-request-id'] = randomUUID();
}

export async function startInbound(plane: DataPlane, host: string, port: number): Promise<ListeningServer> {
  return listenOn(createInboundServer(plane), host, port);
}
