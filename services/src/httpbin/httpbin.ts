// The pieces of httpbin Istio's tasks use, as pure functions of the request.
import type { IncomingHttpHeaders } from 'node:http';

/** httpbin shows header names canonicalised (`X-B3-Sampled`), values joined. */
export function canonicalHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.split('-').map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : p)).join('-');
    out[name] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}

/** Query args: one value stays a string, repeated ones become a list (httpbin's shape). */
export function args(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

/** The client address, as httpbin reports it: X-Forwarded-For first, else the socket peer. */
export function origin(headers: IncomingHttpHeaders, remoteAddress: string | undefined): string {
  const xff = headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  return first || (remoteAddress ?? '').replace(/^::ffff:/, '');
}

/** `/status/200,503` or `/status/200:0.9,503:0.1`: a random pick, weighted. undefined if invalid. */
export function pickStatus(spec: string, random: () => number = Math.random): number | undefined {
  const choices: { code: number; weight: number }[] = [];
  for (const part of spec.split(',')) {
    const [c, w] = part.split(':');
    const code = Number(c);
    const weight = w === undefined ? 1 : Number(w);
    if (!Number.isInteger(code) || code < 100 || code > 599 || !Number.isFinite(weight) || weight < 0) return undefined;
    choices.push({ code, weight });
  }
  const total = choices.reduce((s, c) => s + c.weight, 0);
  if (choices.length === 0) return undefined;
  if (total === 0) return choices[0]!.code;
  let x = random() * total;
  for (const c of choices) {
    if (x < c.weight) return c.code;
    x -= c.weight;
  }
  return choices[choices.length - 1]!.code;
}

export const MAX_DELAY_SECONDS = 10;

export function delaySeconds(raw: string): number | undefined {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) return undefined;
  return Math.min(n, MAX_DELAY_SECONDS);
}
