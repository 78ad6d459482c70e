// The plug-in interface for configured adapters (Istio 1.1: a handler is an adapter with its
// params; rules send it instances of templates). An adapter declares which templates it takes
// and builds handlers from params; a handler answers checks, grants quota, or takes reports.
// Built-in report adapters (the standard Prometheus metrics) use adapter.ts instead.

import type { Registry } from 'prom-client';
import type { Logger } from '#api';

/** An instance as the handler receives it: every template field evaluated. */
export interface Instance {
  /** Fully qualified: `requestcount.quota.istio-system`. */
  name: string;
  template: string;
  fields: Record<string, unknown>;
}

/** gRPC status codes Mixer answers with (Istio's google.rpc.Code). */
export const rpcCodes: Record<number, { name: string; http: number }> = {
  0: { name: 'OK', http: 200 },
  1: { name: 'CANCELLED', http: 499 },
  2: { name: 'UNKNOWN', http: 500 },
  3: { name: 'INVALID_ARGUMENT', http: 400 },
  4: { name: 'DEADLINE_EXCEEDED', http: 504 },
  5: { name: 'NOT_FOUND', http: 404 },
  6: { name: 'ALREADY_EXISTS', http: 409 },
  7: { name: 'PERMISSION_DENIED', http: 403 },
  8: { name: 'RESOURCE_EXHAUSTED', http: 429 },
  9: { name: 'FAILED_PRECONDITION', http: 400 },
  10: { name: 'ABORTED', http: 409 },
  11: { name: 'OUT_OF_RANGE', http: 400 },
  12: { name: 'UNIMPLEMENTED', http: 501 },
  13: { name: 'INTERNAL', http: 500 },
  14: { name: 'UNAVAILABLE', http: 503 },
  15: { name: 'DATA_LOSS', http: 500 },
  16: { name: 'UNAUTHENTICATED', http: 401 },
};

export interface CheckResult {
  /** rpc code; 0 allows. */
  code: number;
  message?: string;
  validDurationMs?: number;
  validUseCount?: number;
}

export interface QuotaArgs {
  amount: number;
  /** BEST_EFFORT grants what is left instead of all-or-nothing. */
  bestEffort: boolean;
}

export interface QuotaResult {
  granted: number;
  /** Denied: how long until the quota can grant again (the sidecar caches the denial that long). */
  validDurationMs: number;
}

export interface Handler {
  /** Fully qualified handler name, as Istio prints it in denials: `denyreviewsv3handler.denier.default`. */
  readonly name: string;
  readonly adapter: string;
  check?(instance: Instance): CheckResult;
  /** May reject or time out when a backend is away; the engine never turns that into a denial. */
  quota?(instance: Instance, args: QuotaArgs): QuotaResult | Promise<QuotaResult>;
  report?(instances: readonly Instance[]): void;
  describe?(): Record<string, unknown>;
  close?(): void | Promise<void>;
}

export interface AdapterContext {
  registry: Registry;
  log: Logger;
  /** Where stdio-style adapters write (tests capture it). */
  output: (line: string) => void;
  now: () => number;
}

export class HandlerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandlerConfigError';
  }
}

export interface AdapterFactory {
  readonly adapter: string;
  readonly templates: readonly string[];
  /** Throws HandlerConfigError for params it cannot use. */
  build(name: string, params: Record<string, unknown>, ctx: AdapterContext): Handler;
}

/** `1s`, `500ms`, `1m`, a number of seconds, or Istio's `{seconds, nanos}`. */
export function durationMs(v: unknown, place: string, def: number): number {
  if (v === undefined || v === null || v === '') return def;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v * 1000;
  if (typeof v === 'object' && v !== null) {
    const o = v as { seconds?: number; nanos?: number };
    return (Number(o.seconds ?? 0) * 1000) + Number(o.nanos ?? 0) / 1e6;
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(v).trim());
  if (!m) throw new HandlerConfigError(`${place}: invalid duration ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
}

export function intParam(v: unknown, place: string, def: number): number {
  if (v === undefined || v === null) return def;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new HandlerConfigError(`${place}: expected a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}
