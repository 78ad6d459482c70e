// Request authentication (Istio's RequestAuthentication, Envoy's jwt_authn filter): a token
// found where a rule looks for it must verify (signature against the rule's JWKS, issuer,
// audience, exp/nbf) or the request gets 401; no token at all passes unauthenticated and
// AuthorizationPolicy decides. A valid token gives the request principal `iss/sub` and its
// claims; the token is removed before the app unless forwardOriginalToken.

import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { JwtRule } from '#api';
import type { Exchange, Layer } from '../exchange.js';
import { localResponse } from '../exchange.js';

/** Clock skew allowed on exp and nbf (Envoy's default is 60 s). */
const LEEWAY_S = 60;
const MAX_TOKEN_BYTES = 16 * 1024;

export interface JwtKey {
  kid?: string;
  alg?: string;
  key: KeyObject;
}

export interface VerifiedJwt {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
  /** base64url payload, for outputPayloadToHeader. */
  payloadB64: string;
}

export class JwtError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JwtError';
  }
}

/** Parses a JWKS document; keys that do not import are skipped (one bad key hides no good one). */
export function parseJwks(json: string): JwtKey[] {
  let doc: unknown;
  try { doc = JSON.parse(json); } catch { throw new JwtError('JWKS is not JSON'); }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new JwtError('JWKS has no keys list');
  const out: JwtKey[] = [];
  for (const k of keys) {
    if (!k || typeof k !== 'object') continue;
    const jwk = k as Record<string, unknown>;
    try {
      const key = createPublicKey({ key: jwk as never, format: 'jwk' });
      out.push({ key, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}), ...(typeof jwk.alg === 'string' ? { alg: jwk.alg } : {}) });
    } catch { /* skip keys node:crypto cannot import */ }
  }
  return out;
}

const ALGS: Record<string, { hash: string; kind: 'rsa' | 'rsa-pss' | 'ec'; dsa?: 'ieee-p1363' }> = {
  RS256: { hash: 'sha256', kind: 'rsa' }, RS384: { hash: 'sha384', kind: 'rsa' }, RS512: { hash: 'sha512', kind: 'rsa' },
  PS256: { hash: 'sha256', kind: 'rsa-pss' }, PS384: { hash: 'sha384', kind: 'rsa-pss' }, PS512: { hash: 'sha512', kind: 'rsa-pss' },
  ES256: { hash: 'sha256', kind: 'ec', dsa: 'ieee-p1363' }, ES384: { hash: 'sha384', kind: 'ec', dsa: 'ieee-p1363' }, ES512: { hash: 'sha512', kind: 'ec', dsa: 'ieee-p1363' },
};

function b64json(part: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new JwtError('Jwt is not in the form of Header.Payload.Signature with base64url encoded JSON');
  }
}

/** Header and payload without checking anything: to pick the rule by issuer. */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; parts: string[] } {
  if (token.length > MAX_TOKEN_BYTES) throw new JwtError('Jwt is too large');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('Jwt is not in the form of Header.Payload.Signature');
  return { header: b64json(parts[0]!), payload: b64json(parts[1]!), parts };
}

export function verifyJwt(token: string, rule: Pick<JwtRule, 'issuer' | 'audiences'>, keys: readonly JwtKey[], nowS: number = Date.now() / 1000): VerifiedJwt {
  const { header, payload, parts } = decodeJwt(token);
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const spec = ALGS[alg];
  // `none` and HMAC algorithms are refused: a public JWKS must never verify a shared-secret token.
  if (!spec) throw new JwtError(`Jwt algorithm ${JSON.stringify(alg)} is not supported`);
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const candidates = keys.filter((k) => (kid === undefined || k.kid === undefined || k.kid === kid) && (k.alg === undefined || k.alg === alg));
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2]!, 'base64url');
  const ok = candidates.some((k) => {
    const type = k.key.asymmetricKeyType;
    if (spec.kind === 'ec' ? type !== 'ec' : type !== 'rsa' && type !== 'rsa-pss') return false;
    try {
      return cryptoVerify(spec.hash, data, {
        key: k.key,
        ...(spec.dsa ? { dsaEncoding: spec.dsa } : {}),
        ...(spec.kind === 'rsa-pss' ? { padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -2 } : {}),
      }, sig);
    } catch { return false; }
  });
  if (!ok) throw new JwtError('Jwt verification fails');
  if (payload.iss !== rule.issuer) throw new JwtError('Jwt issuer is not configured');
  if (typeof payload.exp === 'number' && payload.exp + LEEWAY_S < nowS) throw new JwtError('Jwt is expired');
  if (typeof payload.nbf === 'number' && payload.nbf - LEEWAY_S > nowS) throw new JwtError('Jwt not yet valid');
  if (rule.audiences && rule.audiences.length > 0) {
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => typeof a === 'string' && rule.audiences!.includes(a))) throw new JwtError('Audiences in Jwt are not allowed');
  }
  return {
    issuer: rule.issuer,
    subject: typeof payload.sub === 'string' ? payload.sub : '',
    claims: payload,
    payloadB64: parts[1]!,
  };
}

/** Where a token was found, so it can be removed before the app sees it. */
interface Located { token: string; header?: string; param?: string }

function locate(ex: Exchange, rule: JwtRule): Located | undefined {
  const headers = rule.fromHeaders?.length ? rule.fromHeaders : rule.fromParams?.length ? [] : [{ name: 'authorization', prefix: 'Bearer ' }];
  for (const h of headers) {
    const raw = ex.headers[h.name];
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (typeof v !== 'string' || v === '') continue;
    const prefix = h.prefix ?? '';
    if (prefix && !v.toLowerCase().startsWith(prefix.toLowerCase())) continue;
    return { token: v.slice(prefix.length).trim(), header: h.name };
  }
  const params = rule.fromParams?.length ? rule.fromParams : rule.fromHeaders?.length ? [] : ['access_token'];
  const q = ex.path.indexOf('?');
  if (q >= 0 && params.length) {
    const sp = new URLSearchParams(ex.path.slice(q + 1));
    for (const p of params) {
      const v = sp.get(p);
      if (v) return { token: v, param: p };
    }
  }
  return undefined;
}

function removeToken(ex: Exchange, at: Located): void {
  if (at.header) { delete ex.headers[at.header]; return; }
  const q = ex.path.indexOf('?');
  const sp = new URLSearchParams(ex.path.slice(q + 1));
  sp.delete(at.param!);
  const rest = sp.toString();
  ex.path = ex.path.slice(0, q) + (rest ? `?${rest}` : '');
}

/** What the JWT layer learned about a request, for authorization and telemetry. */
export interface RequestAuth {
  principal: string;
  claims: Record<string, unknown>;
}

const results = new WeakMap<Exchange, RequestAuth>();

export function requestAuthOf(ex: Exchange): RequestAuth | undefined {
  return results.get(ex);
}

export interface JwtLayerDeps {
  rules: () => readonly JwtRule[];
  /** The key set for a rule (inline JWKS parsed once, or fetched from jwksUri); throws JwtError. */
  keys: (rule: JwtRule) => readonly JwtKey[] | Promise<readonly JwtKey[]>;
  onFailure?: (ex: Exchange, reason: string) => void;
}

function unauthorized(reason: string) {
  const r = localResponse(401, reason);
  r.headers['www-authenticate'] = `Bearer realm="mesh", error="invalid_token"`;
  return r;
}

export function jwtLayer(deps: JwtLayerDeps): Layer {
  return (next) => async (ex) => {
    const rules = deps.rules();
    if (rules.length === 0) return next(ex);
    // Every location any rule reads: a token there must verify against a rule for its issuer.
    const found: { at: Located; rule: JwtRule }[] = [];
    for (const rule of rules) {
      const at = locate(ex, rule);
      if (at) found.push({ at, rule });
    }
    if (found.length === 0) return next(ex);
    const token = found[0]!.at.token;
    let iss: unknown;
    try { iss = decodeJwt(token).payload.iss; } catch (err) {
      deps.onFailure?.(ex, (err as Error).message);
      return unauthorized('Jwt verification fails');
    }
    const match = found.find((f) => f.at.token === token && f.rule.issuer === iss);
    if (!match) {
      deps.onFailure?.(ex, `Jwt issuer ${JSON.stringify(iss)} is not configured`);
      return unauthorized('Jwt issuer is not configured');
    }
    let verified: VerifiedJwt;
    try {
      verified = verifyJwt(token, match.rule, await deps.keys(match.rule));
    } catch (err) {
      const reason = err instanceof JwtError ? err.reason : 'Jwt verification fails';
      deps.onFailure?.(ex, reason);
      return unauthorized(reason);
    }
    results.set(ex, { principal: `${verified.issuer}/${verified.subject}`, claims: verified.claims });
    if (!match.rule.forwardOriginalToken) for (const f of found) if (f.at.token === token) removeToken(ex, f.at);
    if (match.rule.outputPayloadToHeader) ex.headers[match.rule.outputPayloadToHeader] = verified.payloadB64;
    return next(ex);
  };
}

/** Inline JWKS parsed once per text; jwksUri fetched through `fetchText` and kept for `ttlMs`. */
export class JwksCache {
  private readonly inline = new Map<string, JwtKey[] | JwtError>();
  private readonly remote = new Map<string, { at: number; keys?: JwtKey[]; pending?: Promise<JwtKey[]>; error?: JwtError }>();

  constructor(private readonly fetchText: (uri: string) => Promise<string>, private readonly ttlMs = 5 * 60_000, private readonly now: () => number = Date.now) {}

  keys(rule: JwtRule): JwtKey[] | Promise<JwtKey[]> {
    if (rule.jwks !== undefined) {
      let hit = this.inline.get(rule.jwks);
      if (!hit) {
        try { hit = parseJwks(rule.jwks); } catch (err) { hit = err instanceof JwtError ? err : new JwtError('JWKS does not parse'); }
        if (this.inline.size > 100) this.inline.clear();
        this.inline.set(rule.jwks, hit);
      }
      if (hit instanceof JwtError) throw hit;
      return hit;
    }
    const uri = rule.jwksUri;
    if (!uri) throw new JwtError('Jwks remote fetch is failed');
    const e = this.remote.get(uri);
    const fresh = e && this.now() - e.at < this.ttlMs;
    if (e?.keys && fresh) return e.keys;
    if (e?.pending) return e.pending;
    const pending = this.fetchText(uri).then((text) => parseJwks(text)).then((keys) => {
      this.remote.set(uri, { at: this.now(), keys });
      return keys;
    }, (err: unknown) => {
      // Keep serving the last good keys when a refresh fails; without any, tokens fail (401).
      const last = this.remote.get(uri)?.keys;
      this.remote.set(uri, { at: last ? this.now() : 0, ...(last ? { keys: last } : {}) });
      if (last) return last;
      throw new JwtError(`Jwks remote fetch is failed: ${(err as Error).message}`);
    });
    this.remote.set(uri, { at: e?.at ?? 0, ...(e?.keys ? { keys: e.keys } : {}), pending });
    return pending;
  }
}
