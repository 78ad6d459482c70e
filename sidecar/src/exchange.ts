// The request model every layer shares. A layer is `(next) => service`, a service turns an
// exchange into a response promise (linkerd2-proxy's stack, undici's interceptors). The last
// service forwards; everything before it decides (route, fault, timeout, retry, balance).

import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { PeerInfo, ResponseFlag } from '#api';
import type { CompiledCluster, CompiledRoute, CompiledRouteTable, EndpointRef, RouteTarget } from './compile.js';

export type Direction = 'outbound' | 'inbound' | 'gateway';

/** Why the proxy could not get a real upstream response; drives retries and response flags. */
export type Failure = 'connect-failure' | 'reset' | 'timeout' | 'no-healthy-upstream' | 'overflow' | 'downstream-gone';

export interface ProxyResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  /** Upstream body stream (piped to the client) or a local body. */
  body?: Readable | string;
  failure?: Failure;
  flag?: ResponseFlag;
}

export interface Exchange {
  readonly req: IncomingMessage;
  readonly direction: Direction;
  /** performance.now() at arrival. */
  readonly startedAt: number;
  readonly method: string;
  /** Host[:port] the request is routed by (lower case). */
  authority: string;
  /** Normalised path + query: the one string that is matched and forwarded. */
  path: string;
  /** The request headers, mutated in place and forwarded (hop-by-hop already removed). */
  headers: IncomingHttpHeaders;
  /** The request has a body to forward (content-length > 0 or chunked). */
  hasBody: boolean;
  /** Set when the body was read into memory so attempts can replay it. */
  bufferedBody?: Buffer;
  /** Whether the first attempt consumed the streamed body already. */
  bodyConsumed: boolean;
  table?: CompiledRouteTable;
  route?: CompiledRoute;
  /** The weighted destination picked for this request (one per request, like Envoy). */
  target?: RouteTarget;
  cluster?: CompiledCluster;
  /** The endpoint of the latest attempt. */
  endpoint?: EndpointRef;
  /** Response flags gathered on the way (DI, URX...). */
  flags: ResponseFlag[];
  attempts: number;
  /** Cancels the attempt in flight (timeouts, client gone). */
  cancelAttempt?: (why: Failure) => void;
  /** The client went away before the response ended. */
  downstreamGone: boolean;
  /** The route timeout fired: no further attempts. */
  expired: boolean;
  /** Who sent the request: inbound reads it from mTLS + the peer header; outbound is this workload. */
  source?: PeerInfo;
  /** Destination service FQDN for telemetry when known before routing (inbound). */
  destinationService?: string;
  requestBytes: number;
  responseBytes: number;
  /** Consistent-hash key of the request, computed once (null: the request has none). */
  hashKey?: number | null;
  /** A Set-Cookie value to send back (consistent hash by cookie, issued when absent). */
  issuedCookie?: string;
  /** Called once when the exchange is over (response ended or client gone). */
  onEnd: ((ex: Exchange, status: number) => void)[];
}

export type Service = (ex: Exchange) => Promise<ProxyResponse>;
export type Layer = (next: Service) => Service;

/** stack([a, b, c], terminal) = a(b(c(terminal))): the first layer sees the request first. */
export function stack(layers: readonly Layer[], terminal: Service): Service {
  let s = terminal;
  for (let i = layers.length - 1; i >= 0; i--) s = layers[i]!(s);
  return s;
}

export function localResponse(status: number, body: string, flag?: ResponseFlag, failure?: Failure): ProxyResponse {
  const r: ProxyResponse = {
    status,
    headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
    body,
  };
  if (flag) r.flag = flag;
  if (failure) r.failure = failure;
  return r;
}

/** Frees an upstream response that will not be sent (retried or superseded): drain so the
 *  keep-alive socket goes back to the pool. */
export function discard(r: ProxyResponse): void {
  if (r.body && typeof r.body !== 'string') r.body.resume();
}

export function newExchange(req: IncomingMessage, direction: Direction, startedAt: number): Exchange {
  return {
    req,
    direction,
    startedAt,
    method: req.method ?? 'GET',
    authority: '',
    path: '/',
    headers: req.headers,
    hasBody: false,
    bodyConsumed: false,
    flags: [],
    attempts: 0,
    downstreamGone: false,
    expired: false,
    requestBytes: 0,
    responseBytes: 0,
    onEnd: [],
  };
}
