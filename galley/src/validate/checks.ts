// Field checks shared by the per-kind validators. Each check records what is wrong and where
// (`spec.http[0].route[1].weight`) and returns the value when it has the right shape, so a
// validator reads top-down and keeps going after the first problem.

import { isIP } from 'node:net';
import { childPath } from '../field-path.js';

const labelName = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelPrefix = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

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

/**
 * Istio's regexes are RE2 (Envoy's safe_regex): lookarounds and backreferences are refused
 * there, so they are refused here; the rest must compile the way the sidecar's matcher
 * compiles it (anchored JavaScript RegExp, no flags), which also refuses RE2's inline flags
 * such as `(?i)`.
 */
const re2Unsupported: [RegExp, string][] = [
  [/\(\?<?[=!]/, 'lookahead and lookbehind are not supported (RE2)'],
  [/\\[1-9]|\\k</, 'backreferences are not supported (RE2)'],
];

/** Compiles a regex the way the sidecar's matcher does (anchored, no flags), RE2's limits first. */
export function regexProblem(re: string): string | undefined {
  for (const [pattern, why] of re2Unsupported) if (pattern.test(re)) return why;
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
    // Istio's ValidateDuration: at least 1ms (0s is not "no timeout" in Istio's API).
    if (ms < 1) {
      this.error(path, `${JSON.stringify(s)}: a duration must be at least 1ms`);
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

  /**
   * Kubernetes label rules, used for every selector and label map: keys `[prefix/]name`
   * (name up to 63 of letters, digits, '-', '_', '.'), values up to 63 of the same or empty.
   */
  labels(path: string, v: unknown, opts: { nonEmpty?: boolean } = {}): Record<string, string> | undefined {
    const m = this.stringMap(path, v);
    if (!m) return undefined;
    if (opts.nonEmpty && Object.keys(m).length === 0) this.error(path, 'must not be empty');
    for (const [k, val] of Object.entries(m)) {
      const slash = k.lastIndexOf('/');
      const prefix = slash < 0 ? undefined : k.slice(0, slash);
      const name = slash < 0 ? k : k.slice(slash + 1);
      if (!labelName.test(name) || name.length > 63 || (prefix !== undefined && (prefix.length > 253 || !labelPrefix.test(prefix)))) {
        this.error(childPath(path, k), `${JSON.stringify(k)} is not a valid label key ([prefix/]name, name up to 63 letters, digits, '-', '_' or '.')`);
      }
      if (typeof val === 'string' && val !== '' && (!labelName.test(val) || val.length > 63)) {
        this.error(childPath(path, k), `${JSON.stringify(val)} is not a valid label value (up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`);
      }
    }
    return m;
  }

  /** Istio's WorkloadSelector (`{labels: {...}}`) or security selector (`{matchLabels: {...}}`). */
  selector(path: string, v: unknown, key: 'labels' | 'matchLabels'): Record<string, string> | undefined {
    const o = this.object(path, v, false, key === 'labels' ? ['labels'] : ['matchLabels']);
    if (!o) return undefined;
    return this.labels(childPath(path, key), o[key]);
  }

  /** An IP address or a CIDR block (`10.0.0.0/8`, `::1`). */
  ipOrCidr(path: string, v: unknown): void {
    const s = this.string(path, v, { required: true });
    if (s === undefined) return;
    const [ip, bits, extra] = s.split('/');
    const family = isIP(ip ?? '');
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !okBits || extra !== undefined) this.error(path, `${JSON.stringify(s)} is not an IP address or CIDR block`);
  }

  stringMatchMap(path: string, v: unknown, allowEmpty: boolean): void {
    const o = this.object(path, v);
    if (!o) return;
    for (const [k, m] of Object.entries(o)) this.stringMatch(childPath(path, k), m, { allowEmpty });
  }
}
