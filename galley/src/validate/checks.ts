// Field checks shared by the per-kind validators. Each check records what is wrong and where
// (`spec.http[0].route[1].weight`) and returns the value when it has the right shape, so a
// validator reads top-down and keeps going after the first problem.

import { childPath } from '../field-path.js';

export interface FieldIssue {
  level: 'Error' | 'Warning';
  field: string;
  message: string;
  /** A validator bug, not a problem of the resource. */
  internal?: boolean;
}

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return 'a map';
  return String(v);
}

const durationUnit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
const durationPart = /(\d+(?:\.\d+)?|\.\d+)(h|ms|m|s|us|µs|ns)/y;

/** `1s`, `0.5s`, `100ms`, `1m`, `1h`, `1m30s` (Go's time.ParseDuration, no sign) -> ms. */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined;
  durationPart.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    durationPart.lastIndex = pos;
    const m = durationPart.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * durationUnit[m[2]!]!;
    pos = durationPart.lastIndex;
  }
  return total;
}

/** Compiles a regex the way the sidecar's matcher does (anchored, no flags). */
export function regexProblem(re: string): string | undefined {
  try {
    new RegExp(`^(?:${re})$`);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export class FieldChecker {
  readonly issues: FieldIssue[] = [];

  error(field: string, message: string): void {
    this.issues.push({ level: 'Error', field, message });
  }

  warn(field: string, message: string): void {
    this.issues.push({ level: 'Warning', field, message });
  }

  /** Warns about fields the mesh does not know: most often a typo (`subest`). */
  known(path: string, v: Obj, fields: readonly string[]): void {
    for (const k of Object.keys(v)) {
      if (!fields.includes(k)) this.warn(childPath(path, k), `unknown field "${k}" (ignored)`);
    }
  }

  object(path: string, v: unknown, required = false, fields?: readonly string[]): Obj | undefined {
    if (v === undefined || v === null) {
      if (required) this.error(path, 'is required');
      return undefined;
    }
    if (!isObject(v)) {
      this.error(path, `must be a map, got ${describe(v)}`);
      return undefined;
    }
    if (fields) this.known(path, v, fields);
    return v;
  }

  list(path: string, v: unknown, opts: { required?: boolean; nonEmpty?: boolean } = {}): unknown[] | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.error(path, 'is required');
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.error(path, `must be a list, got ${describe(v)}`);
      return undefined;
    }
    if (opts.nonEmpty && v.length === 0) this.error(path, 'must not be empty');
    return v;
  }

  string(path: string, v: unknown, opts: { required?: boolean; nonEmpty?: boolean; oneOf?: readonly string[]; ignoreCase?: boolean } = {}): string | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.error(path, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error(path, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    if ((opts.nonEmpty || opts.required) && v === '') {
      this.error(path, 'must not be empty');
      return undefined;
    }
    if (opts.oneOf) {
      const want = opts.ignoreCase ? v.toUpperCase() : v;
      if (!opts.oneOf.includes(want)) {
        this.error(path, `${describe(v)} is not one of ${opts.oneOf.join(', ')}`);
        return undefined;
      }
    }
    return v;
  }

  strings(path: string, v: unknown, opts: { required?: boolean; nonEmpty?: boolean } = {}): string[] | undefined {
    const list = this.list(path, v, opts);
    if (!list) return undefined;
    const out: string[] = [];
    list.forEach((item, i) => {
      const s = this.string(childPath(path, i), item, { required: true });
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  /** A map of string to string (labels, header values). */
  stringMap(path: string, v: unknown): Record<string, string> | undefined {
    const o = this.object(path, v);
    if (!o) return undefined;
    for (const [k, val] of Object.entries(o)) {
      if (typeof val !== 'string') this.error(childPath(path, k), `must be a string, got ${describe(val)} (quote it)`);
    }
    return o as Record<string, string>;
  }

  number(path: string, v: unknown, opts: { required?: boolean; integer?: boolean; min?: number; max?: number } = {}): number | undefined {
    if (v === undefined || v === null) {
      if (opts.required) this.error(path, 'is required');
      return undefined;
    }
    const ok = typeof v === 'number' && Number.isFinite(v) && (!opts.integer || Number.isInteger(v)) &&
      (opts.min === undefined || v >= opts.min) && (opts.max === undefined || v <= opts.max);
    if (!ok) {
      const what = opts.integer ? 'an integer' : 'a number';
      const range = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}`
        : opts.min !== undefined ? ` of at least ${opts.min}` : '';
      this.error(path, `must be ${what}${range}, got ${describe(v)}`);
      return undefined;
    }
    return v as number;
  }

  int(path: string, v: unknown, min?: number, max?: number, required = false): number | undefined {
    return this.number(path, v, { integer: true, min, max, required });
  }

  port(path: string, v: unknown, required = false): number | undefined {
    return this.number(path, v, { integer: true, min: 1, max: 65535, required });
  }

  percent(path: string, v: unknown): number | undefined {
    return this.number(path, v, { min: 0, max: 100 });
  }

  bool(path: string, v: unknown): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.error(path, `must be true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  duration(path: string, v: unknown, required = false): number | undefined {
    const s = this.string(path, v, { required });
    if (s === undefined) return undefined;
    const ms = parseDuration(s);
    if (ms === undefined) {
      this.error(path, `${JSON.stringify(s)} is not a duration (examples: 1s, 0.5s, 100ms, 1m, 1h)`);
      return undefined;
    }
    return ms;
  }

  /** Istio's StringMatch: exactly one of exact, prefix, regex; regexes must compile. */
  stringMatch(path: string, v: unknown, opts: { allowEmpty?: boolean } = {}): void {
    const o = this.object(path, v, true, ['exact', 'prefix', 'regex']);
    if (!o) return;
    const set = (['exact', 'prefix', 'regex'] as const).filter((k) => o[k] !== undefined);
    if (set.length === 0 && !opts.allowEmpty) this.error(path, 'needs exactly one of exact, prefix or regex');
    if (set.length > 1) this.error(path, `needs exactly one of exact, prefix or regex, got ${set.join(' and ')}`);
    for (const k of set) this.string(childPath(path, k), o[k]);
    if (typeof o.regex === 'string') {
      const problem = regexProblem(o.regex);
      if (problem) this.error(childPath(path, 'regex'), `invalid regular expression ${JSON.stringify(o.regex)}: ${problem}`);
    }
  }

  stringMatchMap(path: string, v: unknown, allowEmpty: boolean): void {
    const o = this.object(path, v);
    if (!o) return;
    for (const [k, m] of Object.entries(o)) this.stringMatch(childPath(path, k), m, { allowEmpty });
  }
}
