// Istio 1.1's expression language (CEXL) as its samples use it: attribute paths, map index,
// string/integer/float/bool literals, ==, !=, <, <=, >, >=, &&, ||, !, the `|` default
// (first operand that is present), and the functions match(), matches(), startsWith(),
// endsWith(), conditional(), ip(), timestamp(), duration(), emptyStringMap(), toLower(),
// email(), dnsName(), uri(). Parsed once at config load; evaluated against an AttributeBag
// that records which attributes each evaluation read (the check cache keys on those).

import { isIP } from 'node:net';

export class ExpressionError extends Error {
  constructor(readonly code: 'MIXER_EXPR_SYNTAX' | 'MIXER_EXPR_EVAL', message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** An attribute (or map entry) the request does not carry: `|` catches it, anything else fails. */
export class AbsentAttribute extends Error {
  constructor(readonly ref: string) {
    super(`attribute ${ref} is absent`);
    this.name = 'AbsentAttribute';
  }
}

export class IpAddress {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
}

export class Duration {
  constructor(readonly ms: number) {}
  toString(): string { return `${this.ms / 1000}s`; }
}

export type Value = string | number | boolean | Record<string, string> | IpAddress | Duration | Date;

/** What an expression reads; implementations record each read for the check cache. */
export interface AttributeBag {
  get(name: string): Value | undefined;
  /** A map entry (`request.headers["x-user"]`). */
  getKey(name: string, key: string): Value | undefined;
}

type Node =
  | { t: 'lit'; v: Value }
  | { t: 'attr'; name: string }
  | { t: 'index'; target: Node; key: Node }
  | { t: 'call'; fn: string; args: Node[] }
  | { t: 'unary'; op: '!' | '-'; x: Node }
  | { t: 'bin'; op: string; l: Node; r: Node };

// ---------- lexer ----------

type Tok = { k: 'num'; v: number; pos: number } | { k: 'str'; v: string; pos: number } | { k: 'id'; v: string; pos: number } | { k: 'op'; v: string; pos: number } | { k: 'end'; pos: number };

const OPS = ['||', '&&', '==', '!=', '<=', '>=', '|', '!', '<', '>', '(', ')', '[', ']', ',', '.', '-'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && c !== '`' && j + 1 < src.length) {
          const e = src[j + 1]!;
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else v += src[j++];
      }
      if (j >= src.length) throw new ExpressionError('MIXER_EXPR_SYNTAX', `unterminated string at ${i + 1}`);
      out.push({ k: 'str', v, pos: i });
      i = j + 1;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ k: 'num', v: Number(m[0]), pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ k: 'id', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError('MIXER_EXPR_SYNTAX', `unexpected character ${JSON.stringify(c)} at ${i + 1}`);
    out.push({ k: 'op', v: op, pos: i });
    i += op.length;
  }
  out.push({ k: 'end', pos: src.length });
  return out;
}

// ---------- parser ----------

const FUNCTIONS: Record<string, [number, number]> = {
  match: [2, 2], matches: [2, 2], startsWith: [2, 2], endsWith: [2, 2], conditional: [3, 3],
  ip: [1, 1], timestamp: [1, 1], duration: [1, 1], emptyStringMap: [0, 0], toLower: [1, 1],
  email: [1, 1], dnsName: [1, 1], uri: [1, 1],
};
/** Functions callable as methods: `"^/api".matches(request.path)`, `request.path.startsWith("/x")`. */
const METHODS = new Set(['matches', 'startsWith', 'endsWith']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly src: string) {}

  private peek(): Tok { return this.toks[this.i]!; }
  private isOp(v: string): boolean { const t = this.peek(); return t.k === 'op' && t.v === v; }
  private expect(v: string): void {
    if (!this.isOp(v)) this.fail(`expected ${JSON.stringify(v)}`);
    this.i++;
  }
  private fail(msg: string): never {
    const t = this.peek();
    throw new ExpressionError('MIXER_EXPR_SYNTAX', `${msg} at ${t.pos + 1} in ${JSON.stringify(this.src)}`);
  }

  parse(): Node {
    const n = this.or();
    if (this.peek().k !== 'end') this.fail('unexpected input');
    return n;
  }

  private or(): Node {
    let l = this.and();
    while (this.isOp('||')) { this.i++; l = { t: 'bin', op: '||', l, r: this.and() }; }
    return l;
  }
  private and(): Node {
    let l = this.cmp();
    while (this.isOp('&&')) { this.i++; l = { t: 'bin', op: '&&', l, r: this.cmp() }; }
    return l;
  }
  private cmp(): Node {
    let l = this.dflt();
    for (;;) {
      const t = this.peek();
      if (t.k === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) { this.i++; l = { t: 'bin', op: t.v, l, r: this.dflt() }; } else return l;
    }
  }
  /** `|` binds tighter than comparisons (Go's precedence, which Istio's parser uses). */
  private dflt(): Node {
    let l = this.unary();
    while (this.isOp('|')) { this.i++; l = { t: 'bin', op: '|', l, r: this.unary() }; }
    return l;
  }
  private unary(): Node {
    if (this.isOp('!')) { this.i++; return { t: 'unary', op: '!', x: this.unary() }; }
    if (this.isOp('-')) { this.i++; return { t: 'unary', op: '-', x: this.unary() }; }
    return this.postfix(this.primary());
  }
  private postfix(n: Node): Node {
    for (;;) {
      if (this.isOp('[')) {
        this.i++;
        const key = this.or();
        this.expect(']');
        n = { t: 'index', target: n, key };
      } else if (this.isOp('.')) {
        this.i++;
        const t = this.peek();
        if (t.k !== 'id') this.fail('expected a name after "."');
        this.i++;
        if (this.isOp('(') && METHODS.has(t.v)) {
          const args = this.args();
          n = this.call(t.v, [n, ...args]);
        } else if (n.t === 'attr') {
          n = { t: 'attr', name: `${n.name}.${t.v}` };
        } else this.fail(`unexpected ".${t.v}"`);
      } else return n;
    }
  }
  private args(): Node[] {
    this.expect('(');
    const args: Node[] = [];
    if (!this.isOp(')')) {
      args.push(this.or());
      while (this.isOp(',')) { this.i++; args.push(this.or()); }
    }
    this.expect(')');
    return args;
  }
  private call(fn: string, args: Node[]): Node {
    const arity = FUNCTIONS[fn];
    if (!arity) this.fail(`unknown function ${fn}()`);
    if (args.length < arity[0] || args.length > arity[1]) this.fail(`${fn}() takes ${arity[0]} argument(s), got ${args.length}`);
    return { t: 'call', fn, args };
  }
  private primary(): Node {
    const t = this.peek();
    if (t.k === 'num') { this.i++; return { t: 'lit', v: t.v }; }
    if (t.k === 'str') { this.i++; return { t: 'lit', v: t.v }; }
    if (t.k === 'op' && t.v === '(') { this.i++; const n = this.or(); this.expect(')'); return n; }
    if (t.k === 'id') {
      this.i++;
      if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true' };
      if (this.isOp('(')) return this.call(t.v, this.args());
      return { t: 'attr', name: t.v };
    }
    this.fail('expected a value');
  }
}

// ---------- evaluation ----------

function parseDuration(s: string): Duration {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let ms = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2]!;
    ms += unit === 'h' ? n * 3_600_000 : unit === 'm' ? n * 60_000 : unit === 's' ? n * 1000 : unit === 'ms' ? n : unit === 'ns' ? n / 1e6 : n / 1000;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.replace(/^-/, '').length) throw new ExpressionError('MIXER_EXPR_EVAL', `invalid duration ${JSON.stringify(s)}`);
  return new Duration(s.startsWith('-') ? -ms : ms);
}

function typeName(v: Value): string {
  if (v instanceof IpAddress) return 'IP_ADDRESS';
  if (v instanceof Duration) return 'DURATION';
  if (v instanceof Date) return 'TIMESTAMP';
  if (typeof v === 'object') return 'STRING_MAP';
  return typeof v === 'number' ? 'INT64' : typeof v === 'boolean' ? 'BOOL' : 'STRING';
}

function scalar(v: Value): string | number | boolean {
  if (v instanceof IpAddress) return `ip:${v.text}`;
  if (v instanceof Duration) return v.ms;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

function equal(a: Value, b: Value): boolean {
  // An IP attribute compared with a string literal compares the addresses.
  if (a instanceof IpAddress && typeof b === 'string') return a.text === normalizeIp(b);
  if (b instanceof IpAddress && typeof a === 'string') return b.text === normalizeIp(a);
  if (typeName(a) !== typeName(b)) return false;
  return scalar(a) === scalar(b);
}

function order(a: Value, b: Value, op: string): boolean {
  const x = scalar(a), y = scalar(b);
  if (typeof x !== typeof y || typeName(a) !== typeName(b) || typeof x === 'boolean') {
    throw new ExpressionError('MIXER_EXPR_EVAL', `cannot compare ${typeName(a)} ${op} ${typeName(b)}`);
  }
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

export function normalizeIp(s: string): string {
  const kind = isIP(s);
  if (kind === 0) throw new ExpressionError('MIXER_EXPR_EVAL', `invalid IP address ${JSON.stringify(s)}`);
  // IPv4-mapped IPv6 addresses compare equal to the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return mapped ? mapped[1]! : s.toLowerCase();
}

function str(v: Value, fn: string): string {
  if (typeof v !== 'string') throw new ExpressionError('MIXER_EXPR_EVAL', `${fn}() expects a string, got ${typeName(v)}`);
  return v;
}

const regexCache = new Map<string, RegExp>();
function regex(src: string): RegExp {
  let re = regexCache.get(src);
  if (!re) {
    try { re = new RegExp(src); } catch { throw new ExpressionError('MIXER_EXPR_EVAL', `invalid regex ${JSON.stringify(src)}`); }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(src, re);
  }
  return re;
}

/** Istio's match(): `prefix*`, `*suffix`, or exact. */
export function globMatch(value: string, pattern: string): boolean {
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

function evaluate(n: Node, bag: AttributeBag): Value {
  switch (n.t) {
    case 'lit': return n.v;
    case 'attr': {
      const v = bag.get(n.name);
      if (v === undefined) throw new AbsentAttribute(n.name);
      return v;
    }
    case 'index': {
      if (n.target.t === 'attr' && n.key.t === 'lit' && typeof n.key.v === 'string') {
        const v = bag.getKey(n.target.name, n.key.v);
        if (v === undefined) throw new AbsentAttribute(`${n.target.name}[${n.key.v}]`);
        return v;
      }
      const m = evaluate(n.target, bag);
      const k = evaluate(n.key, bag);
      if (typeof m !== 'object' || m instanceof IpAddress || m instanceof Duration || m instanceof Date) throw new ExpressionError('MIXER_EXPR_EVAL', `cannot index ${typeName(m)}`);
      const v = m[String(k)];
      if (v === undefined) throw new AbsentAttribute(`[${String(k)}]`);
      return v;
    }
    case 'unary': {
      const x = evaluate(n.x, bag);
      if (n.op === '!') {
        if (typeof x !== 'boolean') throw new ExpressionError('MIXER_EXPR_EVAL', `! expects BOOL, got ${typeName(x)}`);
        return !x;
      }
      if (typeof x === 'number') return -x;
      if (x instanceof Duration) return new Duration(-x.ms);
      throw new ExpressionError('MIXER_EXPR_EVAL', `- expects a number, got ${typeName(x)}`);
    }
    case 'bin': {
      if (n.op === '|') {
        try {
          return evaluate(n.l, bag);
        } catch (err) {
          if (err instanceof AbsentAttribute) return evaluate(n.r, bag);
          throw err;
        }
      }
      if (n.op === '&&' || n.op === '||') {
        const l = evaluate(n.l, bag);
        if (typeof l !== 'boolean') throw new ExpressionError('MIXER_EXPR_EVAL', `${n.op} expects BOOL, got ${typeName(l)}`);
        if (n.op === '&&' ? !l : l) return l;
        const r = evaluate(n.r, bag);
        if (typeof r !== 'boolean') throw new ExpressionError('MIXER_EXPR_EVAL', `${n.op} expects BOOL, got ${typeName(r)}`);
        return r;
      }
      const l = evaluate(n.l, bag);
      const r = evaluate(n.r, bag);
      if (n.op === '==') return equal(l, r);
      if (n.op === '!=') return !equal(l, r);
      return order(l, r, n.op);
    }
    case 'call': return call(n.fn, n.args, bag);
  }
}

function call(fn: string, args: Node[], bag: AttributeBag): Value {
  if (fn === 'conditional') {
    const c = evaluate(args[0]!, bag);
    if (typeof c !== 'boolean') throw new ExpressionError('MIXER_EXPR_EVAL', `conditional() expects BOOL, got ${typeName(c)}`);
    return evaluate(c ? args[1]! : args[2]!, bag);
  }
  const v = args.map((a) => evaluate(a, bag));
  switch (fn) {
    case 'match': return globMatch(str(v[0]!, fn), str(v[1]!, fn));
    // `"regex".matches(x)`: the receiver is the pattern.
    case 'matches': return regex(str(v[0]!, fn)).test(str(v[1]!, fn));
    case 'startsWith': return str(v[0]!, fn).startsWith(str(v[1]!, fn));
    case 'endsWith': return str(v[0]!, fn).endsWith(str(v[1]!, fn));
    case 'ip': return v[0] instanceof IpAddress ? v[0] : new IpAddress(normalizeIp(str(v[0]!, fn)));
    case 'timestamp': {
      if (v[0] instanceof Date) return v[0];
      const d = new Date(str(v[0]!, fn));
      if (Number.isNaN(d.getTime())) throw new ExpressionError('MIXER_EXPR_EVAL', `invalid timestamp ${JSON.stringify(v[0])}`);
      return d;
    }
    case 'duration': return v[0] instanceof Duration ? v[0] : parseDuration(str(v[0]!, fn));
    case 'emptyStringMap': return {};
    case 'toLower': return str(v[0]!, fn).toLowerCase();
    case 'email': case 'dnsName': case 'uri': return str(v[0]!, fn);
    default: throw new ExpressionError('MIXER_EXPR_EVAL', `unknown function ${fn}()`);
  }
}

export interface Expression {
  readonly source: string;
  /** Throws AbsentAttribute or ExpressionError; callers decide what a failure means. */
  evaluate(bag: AttributeBag): Value;
}

/** Parses once; throws ExpressionError (MIXER_EXPR_SYNTAX) naming the position. */
export function compileExpression(source: string | number | boolean): Expression {
  const text = String(source);
  if (text.trim() === '') throw new ExpressionError('MIXER_EXPR_SYNTAX', 'empty expression');
  const ast = new Parser(lex(text), text).parse();
  return { source: text, evaluate: (bag) => evaluate(ast, bag) };
}

/** A rule's match: empty means always; absent attributes or type errors mean no match. */
export function evaluateMatch(expr: Expression | undefined, bag: AttributeBag): { matched: boolean; error?: string } {
  if (!expr) return { matched: true };
  try {
    const v = expr.evaluate(bag);
    if (typeof v !== 'boolean') return { matched: false, error: `match evaluated to ${typeName(v)}, not BOOL` };
    return { matched: v };
  } catch (err) {
    if (err instanceof AbsentAttribute) return { matched: false };
    return { matched: false, error: (err as Error).message };
  }
}

/** A value as a metric label or log field (Istio prints IPs, durations and timestamps as text). */
export function valueToString(v: Value): string {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && !(v instanceof IpAddress) && !(v instanceof Duration)) return JSON.stringify(v);
  return String(v);
}
