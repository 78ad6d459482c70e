// Path normalisation, once, at the edge of the proxy: the string produced here is the one
// that is matched, authorised and forwarded (http-proxy's `//admin` rewrite after a check is
// how Istio-style bypasses happen: CVE-2021-31920, CVE-2021-39156).

import type { Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';

export type NormalizeResult = { ok: true; path: string } | { ok: false; reason: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * RFC 3986 normalisation of an origin-form request target:
 * - the fragment is dropped (clients must not send one; some do);
 * - percent-encoded unreserved characters are decoded (`%2e` -> `.`), other escapes are
 *   upper-cased; `%2F`, `%5C` (encoded slash/backslash) and `%00` are refused, as are raw
 *   backslashes, so no later decoder can see a different path than the matcher did;
 * - runs of `/` merge; `.` and `..` segments resolve (never above the root);
 * - the query string is kept byte for byte.
 * Refused: anything not starting with `/`, and path segments that the forwarder would
 * rewrite (`http:/`, see forward.ts).
 */
/** Istio's mesh `pathNormalization`: MERGE_SLASHES-like by default, but `%2F`/`%5C` are refused
 *  (REJECT) unless DECODE (DECODE_AND_MERGE_SLASHES: decoded to `/`, then merged like any slash). */
export interface NormalizeOptions {
  escapedSlashes?: 'REJECT' | 'DECODE';
}

export function normalizePath(target: string, opts: NormalizeOptions = {}): NormalizeResult {
  if (target.length === 0 || target[0] !== '/') return { ok: false, reason: 'path must start with /' };
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);

  // Fast path: nothing to decode, merge or resolve.
  if (!/%|\\|\/\/|\/\.|http(s)?:\//.test(rawPath)) return { ok: true, path: rawPath + query };

  let decoded = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i]!;
    if (ch === '\\') return { ok: false, reason: 'backslash in path' };
    if (ch !== '%') { decoded += ch; continue; }
    const hex = rawPath.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { ok: false, reason: 'invalid percent-encoding in path' };
    const code = parseInt(hex, 16);
    if (code === 0x2f || code === 0x5c) {
      if (opts.escapedSlashes !== 'DECODE') return { ok: false, reason: 'encoded slash or backslash in path' };
      decoded += '/';
      i += 2;
      continue;
    }
    if (code === 0) return { ok: false, reason: 'encoded NUL in path' };
    const c = String.fromCharCode(code);
    decoded += UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
    i += 2;
  }

  const out: string[] = [];
  const segments = decoded.split('/');
  // segments[0] is '' (leading slash). A trailing '' keeps a trailing slash.
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '.' || seg === '..') {
      if (seg === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    if (seg === '' && !last) continue; // merge slashes
    out.push(seg);
  }
  const path = `/${out.join('/')}`;
  if (/https?:\//.test(path)) return { ok: false, reason: 'URL scheme inside the path' };
  return { ok: true, path: path + query };
}

/** Splits a request target into authority and path: proxy form (`http://reviews:9080/x`,
 *  from apps using HTTP_PROXY) or origin form with a Host header (transparent capture). */
export function splitTarget(url: string, host: string | undefined): { authority: string; path: string } | { error: string } {
  if (url.startsWith('/')) {
    if (!host) return { error: 'missing Host header' };
    return { authority: host.toLowerCase(), path: url };
  }
  const lower = url.slice(0, 8).toLowerCase();
  if (!lower.startsWith('http://')) return { error: 'unsupported request target (only origin form and http:// proxy form)' };
  const rest = url.slice(7);
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '/' || c === '?' || c === '#') { end = i; break; }
  }
  const authority = rest.slice(0, end).toLowerCase();
  if (!authority || authority.includes('@')) return { error: 'invalid authority in request target' };
  const path = rest.slice(end);
  return { authority, path: path === '' ? '/' : path[0] === '/' ? path : `/${path}` };
}

/** Normalises the exchange's path and authority; a bad target is a 400 before any routing. */
export const normalizeLayer: Layer = normalizeLayerWith(() => undefined);

/** The same, with options read per request (the inbound policy pilot pushed may set them). */
export function normalizeLayerWith(options: () => NormalizeOptions | undefined): Layer {
  return (next) => (ex) => {
    const t = splitTarget(ex.req.url ?? '/', ex.req.headers.host);
    if ('error' in t) return Promise.resolve(localResponse(400, `${t.error}\n`));
    const n = normalizePath(t.path, options());
    if (!n.ok) return Promise.resolve(localResponse(400, `bad request path: ${n.reason}\n`));
    ex.authority = t.authority;
    ex.path = n.path;
    // Proxy form: the absolute URI's authority wins over any Host header (RFC 9112 3.2.2).
    ex.headers.host = t.authority;
    return next(ex);
  };
}
