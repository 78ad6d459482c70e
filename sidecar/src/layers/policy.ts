// Mixer policy on the request path (Istio 1.1's mixer filter with checks): the server-side
// proxy asks before forwarding to its app (gateways can ask client-side too). A cached
// decision is answered synchronously; only a miss waits for mixer. Denials are Envoy's
// local replies with mixer's status and message (`PERMISSION_DENIED:<handler>:<message>`).
import type { TLSSocket } from 'node:tls';
import type { CheckRequest, PeerInfo } from '#api';
import type { Exchange, Layer, ProxyResponse } from '../exchange.js';
import { localResponse } from '../exchange.js';
import type { PolicyClient, PolicyDecision } from '../policy/check-client.js';

const UNKNOWN: PeerInfo = { workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown', principal: '' };

function port(authority: string): number | undefined {
  const colon = authority.lastIndexOf(':');
  const n = colon < 0 ? NaN : Number(authority.slice(colon + 1));
  return Number.isInteger(n) ? n : undefined;
}

/** The check attributes of an exchange, as the proxy on `side` sees it. */
export function checkRequestOf(ex: Exchange, side: 'inbound' | 'outbound', proxyId: string, self: PeerInfo): CheckRequest {
  const q = ex.path;
  let destination: CheckRequest['destination'];
  if (side === 'inbound') {
    const service = ex.destinationService ?? 'unknown';
    const parts = service.split('.');
    destination = { ...self, service, serviceName: parts[0] ?? service, serviceNamespace: parts[1] ?? self.namespace };
  } else {
    const c = ex.cluster;
    // Client side: the destination is known by its service only (the endpoint is not picked yet).
    destination = { ...UNKNOWN, service: c?.service ?? 'unknown', serviceName: c?.serviceName ?? 'unknown', serviceNamespace: c?.serviceNamespace || 'unknown' };
  }
  const socket = ex.req.socket as Partial<TLSSocket>;
  const req: CheckRequest = {
    proxyId,
    source: side === 'inbound' ? (ex.source ?? UNKNOWN) : self,
    destination,
    request: { method: ex.method, path: q, host: ex.authority, headers: ex.headers as Record<string, string>, scheme: side === 'inbound' ? 'https' : 'http', time: Date.now() },
    reporterKind: side,
    connection: { mtls: side === 'inbound', ...(typeof socket.servername === 'string' ? { requestedServerName: socket.servername } : {}) },
    protocol: 'http',
  };
  const ip = ex.req.socket.remoteAddress;
  if (ip) req.sourceIp = ip;
  const p = port(ex.authority);
  if (p !== undefined) req.destinationPort = p;
  return req;
}

function denial(d: Extract<PolicyDecision, { allowed: false }>): ProxyResponse {
  return localResponse(d.status, `${d.message}\n`, d.status === 429 ? 'RL' : 'UAEX');
}

export interface PolicyLayerOptions {
  client: PolicyClient;
  side: 'inbound' | 'outbound';
  proxyId: string;
  self: () => PeerInfo;
}

export function policyLayer(o: PolicyLayerOptions): Layer {
  return (next) => (ex) => {
    const req = checkRequestOf(ex, o.side, o.proxyId, o.self());
    const hit = o.client.cached(req);
    if (hit) return hit.allowed ? next(ex) : Promise.resolve(denial(hit));
    return o.client.ask(req).then((d) => (d.allowed ? next(ex) : denial(d)));
  };
}
