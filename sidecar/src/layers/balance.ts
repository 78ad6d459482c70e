// Endpoint selection per attempt (so a retry can land elsewhere), with the per-endpoint
// counters LEAST_REQUEST and the admin's /clusters read, the consistent-hash key of the
// request (header, cookie, source IP or query parameter; a cookie with a ttl is issued when
// the request has none), and each attempt's outcome reported to the outlier detector.
// No healthy endpoint: 503 UH.

import { randomBytes } from 'node:crypto';
import type { ConsistentHashConfig } from '#api';
import { hash32 } from '../balancer.js';
import type { Exchange, Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of (Array.isArray(header) ? header.join(';') : header).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(path.slice(q + 1)).get(name) ?? undefined;
}

/** The request's hash key as Envoy's hash policies read it; undefined: no key (random pick). */
export function requestHashKey(ex: Exchange, ch: ConsistentHashConfig): string | undefined {
  if (ch.header) {
    const v = ex.headers[ch.header];
    if (v !== undefined) return Array.isArray(v) ? v.join(',') : v;
  }
  if (ch.cookie) {
    const v = cookieValue(ex.headers.cookie, ch.cookie.name);
    if (v !== undefined) return v;
    if (ch.cookie.ttlMs !== undefined) {
      // Envoy issues the cookie when it is absent and a ttl is set; the value is the key.
      const value = randomBytes(8).toString('hex');
      const attrs = [`${ch.cookie.name}=${value}`, `Path=${ch.cookie.path ?? '/'}`, 'HttpOnly'];
      if (ch.cookie.ttlMs > 0) attrs.splice(2, 0, `Max-Age=${Math.max(1, Math.round(ch.cookie.ttlMs / 1000))}`);
      ex.issuedCookie = attrs.join('; ');
      return value;
    }
  }
  if (ch.sourceIp) {
    const xff = ex.headers['x-forwarded-for'];
    const first = typeof xff === 'string' && ex.direction === 'gateway' ? xff.split(',')[0]!.trim() : undefined;
    const ip = first || ex.req.socket?.remoteAddress;
    if (ip) return ip;
  }
  if (ch.queryParameter) return queryValue(ex.path, ch.queryParameter);
  return undefined;
}

function appendSetCookie(headers: Record<string, unknown>, cookie: string): void {
  const prev = headers['set-cookie'];
  headers['set-cookie'] = prev === undefined ? [cookie] : Array.isArray(prev) ? [...prev, cookie] : [String(prev), cookie];
}

export const balanceLayer: Layer = (next) => (ex) => {
  const cluster = ex.cluster;
  if (!cluster) return Promise.resolve(localResponse(503, 'no cluster\n', 'NR'));
  const ch = cluster.def.consistentHash;
  if (ch && ex.hashKey === undefined) {
    const key = requestHashKey(ex, ch);
    ex.hashKey = key === undefined ? null : hash32(key);
  }
  const e = cluster.balancer.pick(ex.hashKey ?? undefined);
  if (!e) return Promise.resolve(localResponse(503, 'no healthy upstream\n', 'UH', 'no-healthy-upstream'));
  ex.endpoint = e;
  ex.attempts++;
  const s = e.stats;
  s.active++;
  s.requests++;
  return next(ex).then((r) => {
    s.active--;
    if (r.failure === 'connect-failure') s.connectFailures++;
    if (r.status >= 500 && r.failure !== 'timeout' && r.failure !== 'downstream-gone') s.failures++;
    if (cluster.outlier) cluster.outlier.report(e, r);
    else if (r.status >= 500 && r.failure !== 'timeout') s.consecutiveFailures++;
    else s.consecutiveFailures = 0;
    if (ex.issuedCookie) appendSetCookie(r.headers as Record<string, unknown>, ex.issuedCookie);
    return r;
  }, (err: unknown) => {
    s.active--;
    throw err;
  });
};
