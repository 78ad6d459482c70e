// Mixer's policy and telemetry runtime over the compiled config: builds handlers (keeping
// those whose adapter and params did not change, so quota windows and counters survive
// pushes), answers checks (check rules, then quotas bound to the destination service) with
// the attributes the answer depended on, and dispatches report records to report rules.

import { Counter, Gauge } from 'prom-client';
import type { CheckRequest, CheckResponse, Logger, ReportRecord, Resource } from '#api';
import type { Adapter } from './adapters/adapter.js';
import { rpcCodes, type AdapterContext, type AdapterFactory, type CheckResult, type Handler, type Instance } from './adapters/handler.js';
import { checkBag, reportBag, type RecordingBag } from './config/attributes.js';
import { AbsentAttribute, evaluateMatch, type Expression, type Value } from './config/expression.js';
import { bindsService, compileMixerConfig, type ConfigProblem, type InstanceSpec, type MixerConfig, type RuleSpec, type StringMatchSpec } from './config/model.js';

export interface RuntimeOptions {
  factories: readonly AdapterFactory[];
  ctx: AdapterContext;
  configNamespace: string;
  adapterKinds: readonly string[];
  templateKinds: readonly string[];
  /** Validity of an answer no handler narrowed. */
  validDurationMs: number;
  validUseCount: number;
  /** A quota backend slower than this is treated as down for that request (allowed). */
  quotaTimeoutMs: number;
  log: Logger;
}

type Field = InstanceSpec['fields'][string];

function evalField(f: Field, bag: RecordingBag, top: boolean): unknown {
  if (f === undefined) return undefined;
  if (typeof (f as Expression).evaluate === 'function') {
    try {
      return (f as Expression).evaluate(bag);
    } catch (err) {
      // An absent map entry is left out; an absent top-level field fails the instance.
      if (!top && err instanceof AbsentAttribute) return undefined;
      throw err;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f as Record<string, Field>)) {
    const x = evalField(v, bag, false);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

export function evalInstance(inst: InstanceSpec, bag: RecordingBag): Instance {
  const fields: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(inst.fields)) fields[k] = evalField(f, bag, true);
  return { name: inst.fqName, template: inst.template, fields };
}

function stringMatches(value: Value | undefined, m: StringMatchSpec): boolean {
  if (typeof value !== 'string') return false;
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  if (m.regex !== undefined) { try { return new RegExp(`^(?:${m.regex})$`).test(value); } catch { return false; } }
  return true;
}

function withTimeout<T>(p: Promise<T> | T, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    Promise.resolve(p).then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e as Error); });
  });
}

export class MixerRuntime implements Adapter {
  readonly name = 'rules';
  private config: MixerConfig;
  private readonly handlers = new Map<string, { key: string; handler: Handler }>();
  private handlerProblems: ConfigProblem[] = [];
  private readonly factories: Map<string, AdapterFactory>;
  private readonly m: {
    quotaBackendErrors: Counter<'handler'>;
    ruleErrors: Counter<'kind'>;
    problems: Gauge<string>;
    rules: Gauge<string>;
  };
  private readonly listeners: ((version: string) => void)[] = [];
  private readonly totals = { checks: 0, denied: 0, quotaDenied: 0, quotaBackendErrors: 0, reported: 0, instanceErrors: 0 };

  constructor(private readonly opts: RuntimeOptions) {
    this.factories = new Map(opts.factories.map((f) => [f.adapter, f]));
    this.config = this.compile([], 'none');
    const registers = [opts.ctx.registry];
    this.m = {
      quotaBackendErrors: new Counter({ name: 'mixer_quota_backend_errors_total', help: 'quota calls whose backend failed or timed out (the request was allowed)', labelNames: ['handler'], registers }),
      ruleErrors: new Counter({ name: 'mixer_rule_errors_total', help: 'rule matches and instances that failed to evaluate', labelNames: ['kind'], registers }),
      problems: new Gauge({ name: 'mixer_config_problems', help: 'problems in the current policy and telemetry config', registers }),
      rules: new Gauge({ name: 'mixer_config_rules', help: 'rules in the current config', registers }),
    };
  }

  private compile(resources: readonly Resource[], version: string): MixerConfig {
    return compileMixerConfig(resources, version, {
      configNamespace: this.opts.configNamespace,
      adapters: new Map([...this.factories].map(([k, f]) => [k, f.templates])),
      adapterKinds: this.opts.adapterKinds,
      templateKinds: this.opts.templateKinds,
    });
  }

  get version(): string {
    return this.config.version;
  }

  onChange(fn: (version: string) => void): void {
    this.listeners.push(fn);
  }

  /** Replaces the config; handlers with unchanged params are kept, the rest rebuilt. */
  apply(resources: readonly Resource[], version: string): ConfigProblem[] {
    const next = this.compile(resources, version);
    const problems: ConfigProblem[] = [];
    const keep = new Set<string>();
    const wanted = new Map([...next.handlers].map(([fq, h]) => [fq, { spec: h, key: `${h.adapter}\u0001${JSON.stringify(h.params)}` }]));
    for (const [fq, w] of wanted) if (this.handlers.get(fq)?.key === w.key) keep.add(fq);
    // Close what goes away first: a rebuilt prometheus handler re-registers the same metric names.
    for (const [fq, h] of [...this.handlers]) {
      if (keep.has(fq)) continue;
      this.handlers.delete(fq);
      void Promise.resolve(h.handler.close?.()).catch((err: unknown) => this.opts.log.warn({ err, handler: fq }, 'handler close failed'));
    }
    for (const [fq, w] of wanted) {
      if (keep.has(fq)) continue;
      try {
        this.handlers.set(fq, { key: w.key, handler: this.factories.get(w.spec.adapter)!.build(fq, w.spec.params, this.opts.ctx) });
      } catch (err) {
        problems.push({ code: 'MIXER_CONFIG_HANDLER_PARAMS', level: 'Error', resource: w.spec.resource, message: `${fq}: ${(err as Error).message}` });
      }
    }
    this.handlerProblems = problems;
    this.config = next;
    this.m.problems.set(next.problems.length + problems.length);
    this.m.rules.set(next.rules.length);
    for (const fn of this.listeners) fn(version);
    return [...next.problems, ...problems];
  }

  problems(): ConfigProblem[] {
    return [...this.config.problems, ...this.handlerProblems];
  }

  handler(fq: string): Handler | undefined {
    return this.handlers.get(fq)?.handler;
  }

  private inScope(rule: RuleSpec, bag: RecordingBag): boolean {
    if (rule.namespace === this.config.configNamespace) return true;
    const ns = bag.get('destination.service.namespace') ?? bag.get('destination.namespace');
    return ns === rule.namespace;
  }

  private ruleMatches(rule: RuleSpec, bag: RecordingBag, kind: string): boolean {
    if (!this.inScope(rule, bag)) return false;
    const m = evaluateMatch(rule.match, bag);
    if (m.error) {
      this.m.ruleErrors.inc({ kind });
      this.opts.log.debug({ rule: rule.resource, err: m.error }, 'rule match failed to evaluate');
    }
    return m.matched;
  }

  private instance(inst: InstanceSpec, bag: RecordingBag, kind: string): Instance | undefined {
    try {
      return evalInstance(inst, bag);
    } catch (err) {
      this.m.ruleErrors.inc({ kind });
      this.totals.instanceErrors++;
      this.opts.log.debug({ instance: inst.fqName, err: (err as Error).message }, 'instance failed to evaluate');
      return undefined;
    }
  }

  /** The quotas the destination's bound QuotaSpecs ask for. */
  private quotasFor(bag: RecordingBag): { quota: string; charge: number }[] {
    if (this.config.bindings.length === 0) return [];
    const str = (v: Value | undefined) => (typeof v === 'string' ? v : undefined);
    const dest = {
      host: str(bag.get('destination.service.host')),
      name: str(bag.get('destination.service.name')),
      namespace: str(bag.get('destination.service.namespace')),
    };
    const out: { quota: string; charge: number }[] = [];
    for (const b of this.config.bindings) {
      if (!b.services.some((s) => bindsService(b, s, dest, this.config.configNamespace))) continue;
      for (const spec of b.specs) {
        for (const rule of spec) {
          const ok = rule.match.length === 0 || rule.match.some((clause) => Object.entries(clause).every(([attr, m]) => {
            const open = attr.indexOf('[');
            const v = open > 0 ? bag.getKey(attr.slice(0, open), attr.slice(open + 1, -1).replace(/^["']|["']$/g, '')) : bag.get(attr);
            return stringMatches(v, m);
          }));
          if (ok) out.push(...rule.quotas);
        }
      }
    }
    return out;
  }

  async check(req: CheckRequest): Promise<CheckResponse> {
    this.totals.checks++;
    const bag = checkBag(req);
    let validMs = this.opts.validDurationMs;
    let uses = this.opts.validUseCount;
    let denial: { code: number; text: string; rule: string } | undefined;
    const narrow = (r: { validDurationMs?: number; validUseCount?: number }) => {
      if (r.validDurationMs !== undefined) validMs = Math.min(validMs, r.validDurationMs);
      if (r.validUseCount !== undefined) uses = Math.min(uses, r.validUseCount);
    };

    for (const rule of this.config.rules) {
      if (rule.check.length === 0 || !this.ruleMatches(rule, bag, 'check')) continue;
      for (const action of rule.check) {
        const h = this.handler(action.handler.fqName);
        if (!h?.check) continue;
        for (const spec of action.instances) {
          const inst = this.instance(spec, bag, 'check');
          if (!inst) continue;
          let r: CheckResult;
          try { r = h.check(inst); } catch (err) { this.opts.log.warn({ err, handler: h.name }, 'check handler failed'); continue; }
          narrow(r);
          if (r.code !== 0 && !denial) {
            const name = rpcCodes[r.code]?.name ?? 'UNKNOWN';
            denial = { code: r.code, text: `${name}:${h.name}:${r.message ?? ''}`, rule: rule.resource };
          }
        }
      }
    }

    let consumedQuota = false;
    if (!denial) {
      for (const q of this.quotasFor(bag)) {
        for (const rule of this.config.rules) {
          const actions = rule.quota.filter((a) => a.instances.some((i) => i.name === q.quota || i.fqName === q.quota));
          if (actions.length === 0 || !this.ruleMatches(rule, bag, 'quota')) continue;
          for (const action of actions) {
            const h = this.handler(action.handler.fqName);
            if (!h?.quota) continue;
            for (const spec of action.instances.filter((i) => i.name === q.quota || i.fqName === q.quota)) {
              const inst = this.instance(spec, bag, 'quota');
              if (!inst) continue;
              try {
                const r = await withTimeout(h.quota(inst, { amount: q.charge, bestEffort: false }), this.opts.quotaTimeoutMs);
                if (r.granted >= q.charge) {
                  consumedQuota = true;
                } else if (!denial) {
                  this.totals.quotaDenied++;
                  denial = { code: 8, text: `RESOURCE_EXHAUSTED:Quota is exhausted for: ${q.quota}`, rule: rule.resource };
                  // Denied until the window lets the next unit through: the sidecar answers locally till then.
                  validMs = Math.min(validMs, r.validDurationMs);
                }
              } catch (err) {
                // A quota backend that is down never turns requests into 429s (istio/istio#12115).
                this.totals.quotaBackendErrors++;
                this.m.quotaBackendErrors.inc({ handler: h.name });
                this.opts.log.debug({ err: (err as Error).message, handler: h.name }, 'quota backend failed; request allowed');
                validMs = 0;
                uses = 1;
              }
            }
          }
        }
      }
    }
    // An answer that consumed quota is spent on this request: it must not be reused.
    if (consumedQuota && !denial) { uses = 1; validMs = 0; }

    const base = { validDurationMs: Math.max(0, Math.round(validMs)), validUseCount: Math.max(1, uses), referencedAttributes: bag.references(), configVersion: this.config.version };
    if (!denial) return { allowed: true, ...base };
    this.totals.denied++;
    const code = rpcCodes[denial.code] ?? { name: 'UNKNOWN', http: 500 };
    return { allowed: false, code: code.name, message: denial.text, httpStatus: code.http, rule: denial.rule, ...base };
  }

  /** Report rules: every record through every matching rule, one handler call per batch. */
  handleReport(records: readonly ReportRecord[]): void {
    const rules = this.config.rules.filter((r) => r.report.length > 0);
    if (rules.length === 0) return;
    const batches = new Map<Handler, Instance[]>();
    for (const r of records) {
      if (r === null || typeof r !== 'object') continue;
      const bag = reportBag(r);
      for (const rule of rules) {
        if (!this.ruleMatches(rule, bag, 'report')) continue;
        for (const action of rule.report) {
          const h = this.handler(action.handler.fqName);
          if (!h?.report) continue;
          let list = batches.get(h);
          if (!list) batches.set(h, (list = []));
          for (const spec of action.instances) {
            const inst = this.instance(spec, bag, 'report');
            if (inst) list.push(inst);
          }
        }
      }
    }
    for (const [h, list] of batches) {
      try {
        h.report!(list);
        this.totals.reported += list.length;
      } catch (err) {
        this.opts.log.warn({ err, handler: h.name }, 'report handler failed');
      }
    }
  }

  describe(): Record<string, unknown> {
    return { version: this.config.version, totals: { ...this.totals } };
  }

  /** Mixer's view of its config for /debug/configz. */
  configz(): Record<string, unknown> {
    const c = this.config;
    return {
      version: c.version,
      configNamespace: c.configNamespace,
      handlers: [...c.handlers.values()].map((h) => ({ name: h.fqName, adapter: h.adapter, resource: h.resource, state: this.handlers.get(h.fqName)?.handler.describe?.() ?? (this.handlers.has(h.fqName) ? {} : 'not built') })),
      instances: [...c.instances.values()].map((i) => ({ name: i.fqName, template: i.template, resource: i.resource })),
      rules: c.rules.map((r) => ({
        name: r.resource, match: r.match?.source ?? '',
        actions: [...r.check, ...r.quota, ...r.report].map((a) => ({ handler: a.handler.fqName, instances: a.instances.map((i) => i.fqName) })),
      })),
      quotaBindings: c.bindings.map((b) => ({ resource: b.resource, services: b.services, quotas: b.specs.flat().flatMap((s) => s.quotas) })),
      problems: this.problems(),
    };
  }

  async close(): Promise<void> {
    for (const { handler } of this.handlers.values()) await Promise.resolve(handler.close?.()).catch(() => {});
    this.handlers.clear();
  }
}
