// Header hygiene shared by every listener: hop-by-hop headers never cross the proxy, and
// route-level mutations are applied the same way to requests and responses.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMutations } from '#api';

/** RFC 9110 7.6.1 plus the ones Node or http-proxy mishandle when forwarded (`trailer` on a
 *  GET throws inside http-proxy; `expect` suppresses its proxyReq event; we answer
 *  100-continue ourselves). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'expect'];

/** Headers a `Connection:` token must never remove. */
const PROTECTED = new Set(['host', 'content-length', 'content-type', 'x-request-id']);

export function stripHopByHop(h: IncomingHttpHeaders | OutgoingHttpHeaders): void {
  const conn = h.connection;
  // The common values name no other header; only parse the rare list.
  if (typeof conn === 'string' && !/^\s*(keep-alive|close)\s*$/i.test(conn)) {
    for (const token of conn.split(',')) {
      const name = token.trim().toLowerCase();
      if (name && !PROTECTED.has(name)) delete h[name];
    }
  }
  for (const k of HOP_BY_HOP) if (h[k] !== undefined) delete h[k];
}

export function applyMutations(h: IncomingHttpHeaders | OutgoingHttpHeaders, m: HeaderMutations | undefined): void {
  if (!m) return;
  if (m.remove) for (const name of m.remove) delete h[name.toLowerCase()];
  if (m.set) for (const name in m.set) h[name.toLowerCase()] = m.set[name];
  if (m.add) {
    for (const name in m.add) {
      const k = name.toLowerCase();
      const prev = h[k];
      const v = m.add[name]!;
      h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev.map(String), v] : `${String(prev)},${v}`;
    }
  }
}

/** content-length > 0 or a chunked body. */
export function requestHasBody(h: IncomingHttpHeaders): boolean {
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}
