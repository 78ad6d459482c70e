// Galley's config.istio.io/v1alpha2 resources compiled into mixer's model: handlers (an
// adapter with params), instances (a template with expressions), rules (a match and actions
// sending instances to handlers), QuotaSpecs and their bindings to services. Both the 1.1
// generic kinds (handler/instance with compiledAdapter/compiledTemplate) and the older
// per-adapter and per-template kinds (`kind: denier`, `kind: checknothing`) are accepted.
// A bad resource is reported with a code and left out; the rest applies. Pure: no handlers
// are built here (runtime.ts does, keeping those whose params did not change).

import { resourceKey, type Resource } from '#api';
import { compileExpression, ExpressionError, type Expression } from './expression.js';

export const CHECK_TEMPLATES = new Set(['checknothing', 'listentry', 'authorization', 'apikey']);
export const QUOTA_TEMPLATES = new Set(['quota']);
export const REPORT_TEMPLATES = new Set(['metric', 'logentry', 'tracespan', 'reportnothing', 'edge']);
/** Templates whose instances mixer can build; the others load with a warning and do nothing. */
export const SUPPORTED_TEMPLATES = new Set(['checknothing', 'listentry', 'metric', 'logentry', 'quota', 'tracespan', 'reportnothing']);

export interface ConfigProblem {
  code: string;
  level: 'Error' | 'Warning';
  /** `rule/default/denyreviewsv3` */
  resource: string;
  file?: string;
  line?: number;
  message: string;
}

export interface HandlerSpec {
  /** `denyreviewsv3handler.denier.default` */
  fqName: string;
  adapter: string;
  params: Record<string, unknown>;
  resource: string;
}

type CompiledField = Expression | { [k: string]: CompiledField } | undefined;

export interface InstanceSpec {
  /** `requestcount.quota.istio-system` */
  fqName: string;
  name: string;
  namespace: string;
  template: string;
  fields: Record<string, CompiledField>;
  resource: string;
}

export interface RuleAction {
  handler: HandlerSpec;
  instances: InstanceSpec[];
}

export interface RuleSpec {
  name: string;
  namespace: string;
  resource: string;
  match?: Expression;
  check: RuleAction[];
  quota: RuleAction[];
  report: RuleAction[];
}

export interface StringMatchSpec { exact?: string; prefix?: string; regex?: string }

export interface QuotaSpecRule {
  /** Any clause matching selects the rule; a clause matches when all its attributes match. */
  match: Record<string, StringMatchSpec>[];
  quotas: { quota: string; charge: number }[];
}

export interface QuotaBinding {
  resource: string;
  namespace: string;
  services: { name?: string; namespace?: string; service?: string }[];
  specs: QuotaSpecRule[][];
}

export interface MixerConfig {
  version: string;
  configNamespace: string;
  handlers: Map<string, HandlerSpec>;
  instances: Map<string, InstanceSpec>;
  rules: RuleSpec[];
  bindings: QuotaBinding[];
  problems: ConfigProblem[];
}

export interface CompileOptions {
  /** Istio's `istio-system`: rules there apply to every namespace. */
  configNamespace: string;
  /** Adapter name -> the templates it accepts. */
  adapters: ReadonlyMap<string, readonly string[]>;
  adapterKinds: readonly string[];
  templateKinds: readonly string[];
}

function compileFields(spec: unknown, place: string): Record<string, CompiledField> {
  const out: Record<string, CompiledField> = {};
  if (spec === null || spec === undefined) return out;
  if (typeof spec !== 'object' || Array.isArray(spec)) throw new ExpressionError('MIXER_EXPR_SYNTAX', `${place}: expected a map of fields`);
  for (const [k, v] of Object.entries(spec)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object' && !Array.isArray(v)) out[k] = compileFields(v, `${place}.${k}`);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      try { out[k] = compileExpression(v); } catch (err) { throw new ExpressionError('MIXER_EXPR_SYNTAX', `${place}.${k}: ${(err as Error).message}`); }
    }
  }
  return out;
}

/** `a.b.c` -> parts for reference resolution. */
function parseRef(ref: string, kinds: Set<string>): { name: string; kind?: string; namespace?: string } {
  const parts = ref.split('.');
  const name = parts[0]!;
  if (parts.length === 1) return { name };
  if (parts.length === 2) return kinds.has(parts[1]!) ? { name, kind: parts[1]! } : { name, namespace: parts[1]! };
  return { name, kind: parts[1]!, namespace: parts.slice(2).join('.') };
}

export function compileMixerConfig(resources: readonly Resource[], version: string, opts: CompileOptions): MixerConfig {
  const problems: ConfigProblem[] = [];
  const problem = (r: Resource, code: string, message: string, level: 'Error' | 'Warning' = 'Error') => {
    problems.push({ code, level, resource: resourceKey(r), ...(r.source ? { file: r.source.file, line: r.source.line } : {}), message });
  };
  const adapterKinds = new Set(opts.adapterKinds);
  const templateKinds = new Set(opts.templateKinds);
  const refKinds = new Set([...adapterKinds, ...templateKinds, 'handler', 'instance']);
  const handlers = new Map<string, HandlerSpec>();
  const instances = new Map<string, InstanceSpec>();
  // (name, namespace) -> entries of any kind, for short references.
  const byName = new Map<string, (HandlerSpec | InstanceSpec)[]>();
  const index = (name: string, ns: string, e: HandlerSpec | InstanceSpec) => {
    const k = `${name}/${ns}`;
    byName.set(k, [...(byName.get(k) ?? []), e]);
  };
  const spec = (r: Resource) => (r.spec ?? {}) as Record<string, unknown>;

  for (const r of resources) {
    if (!r.apiVersion?.startsWith('config.istio.io/')) continue;
    const ns = r.metadata.namespace || 'default';
    const name = r.metadata.name;
    if (r.kind === 'handler' || adapterKinds.has(r.kind)) {
      const s = spec(r);
      const adapter = r.kind === 'handler' ? String(s.compiledAdapter ?? s.adapter ?? '') : r.kind;
      const params = (r.kind === 'handler' ? s.params : s) as Record<string, unknown> | undefined;
      if (!opts.adapters.has(adapter)) {
        problem(r, 'MIXER_CONFIG_UNSUPPORTED_ADAPTER', `adapter ${JSON.stringify(adapter)} is not available in this mixer (available: ${[...opts.adapters.keys()].join(', ')})`, 'Warning');
        continue;
      }
      const h: HandlerSpec = { fqName: `${name}.${r.kind}.${ns}`, adapter, params: params ?? {}, resource: resourceKey(r) };
      handlers.set(h.fqName, h);
      index(name, ns, h);
    } else if (r.kind === 'instance' || templateKinds.has(r.kind)) {
      const s = spec(r);
      const template = r.kind === 'instance' ? String(s.compiledTemplate ?? s.template ?? '') : r.kind;
      if (!SUPPORTED_TEMPLATES.has(template)) {
        problem(r, 'MIXER_CONFIG_UNSUPPORTED_TEMPLATE', `template ${JSON.stringify(template)} is not supported; instances of it are ignored`, 'Warning');
        continue;
      }
      try {
        const fields = compileFields(r.kind === 'instance' ? s.params : s, 'spec');
        const inst: InstanceSpec = { fqName: `${name}.${r.kind}.${ns}`, name, namespace: ns, template, fields, resource: resourceKey(r) };
        instances.set(inst.fqName, inst);
        index(name, ns, inst);
      } catch (err) {
        problem(r, 'MIXER_CONFIG_EXPRESSION', (err as Error).message);
      }
    }
  }

  function resolve<T extends HandlerSpec | InstanceSpec>(ref: string, ruleNs: string, want: 'handler' | 'instance'): T | undefined {
    const p = parseRef(ref, refKinds);
    const isWanted = (e: HandlerSpec | InstanceSpec) => (want === 'handler' ? 'adapter' in e : 'template' in e);
    for (const ns of p.namespace ? [p.namespace] : [ruleNs, opts.configNamespace]) {
      const found = (byName.get(`${p.name}/${ns}`) ?? []).filter((e) => isWanted(e) && (!p.kind || e.fqName === `${p.name}.${p.kind}.${ns}`));
      if (found.length) return found[0] as T;
    }
    return undefined;
  }

  const rules: RuleSpec[] = [];
  for (const r of resources) {
    if (r.kind !== 'rule' || !r.apiVersion?.startsWith('config.istio.io/')) continue;
    const s = spec(r);
    const ns = r.metadata.namespace || 'default';
    const rule: RuleSpec = { name: r.metadata.name, namespace: ns, resource: resourceKey(r), check: [], quota: [], report: [] };
    let ok = true;
    if (s.match !== undefined && s.match !== null && String(s.match).trim() !== '') {
      try { rule.match = compileExpression(s.match as string); } catch (err) { problem(r, 'MIXER_CONFIG_EXPRESSION', `spec.match: ${(err as Error).message}`); ok = false; }
    }
    const actions = Array.isArray(s.actions) ? s.actions as Record<string, unknown>[] : [];
    actions.forEach((a, i) => {
      const handler = resolve<HandlerSpec>(String(a?.handler ?? ''), ns, 'handler');
      if (!handler) { problem(r, 'MIXER_CONFIG_UNKNOWN_HANDLER', `spec.actions[${i}].handler: ${JSON.stringify(a?.handler)} not found`); ok = false; return; }
      const templates = opts.adapters.get(handler.adapter) ?? [];
      const byKind: Record<'check' | 'quota' | 'report', InstanceSpec[]> = { check: [], quota: [], report: [] };
      for (const ref of Array.isArray(a.instances) ? a.instances as string[] : []) {
        const inst = resolve<InstanceSpec>(String(ref), ns, 'instance');
        if (!inst) { problem(r, 'MIXER_CONFIG_UNKNOWN_INSTANCE', `spec.actions[${i}].instances: ${JSON.stringify(ref)} not found`); ok = false; continue; }
        if (!templates.includes(inst.template)) { problem(r, 'MIXER_CONFIG_TEMPLATE_MISMATCH', `spec.actions[${i}]: handler ${handler.fqName} (${handler.adapter}) does not take ${inst.template} instances`); ok = false; continue; }
        const kind = CHECK_TEMPLATES.has(inst.template) ? 'check' : QUOTA_TEMPLATES.has(inst.template) ? 'quota' : 'report';
        byKind[kind].push(inst);
      }
      for (const k of ['check', 'quota', 'report'] as const) if (byKind[k].length) rule[k].push({ handler, instances: byKind[k] });
    });
    // A rule with a broken reference is left out whole: half a policy is worse than none.
    if (ok) rules.push(rule);
  }

  const specs = new Map<string, QuotaSpecRule[]>();
  for (const r of resources) {
    if (r.kind !== 'QuotaSpec') continue;
    const s = spec(r);
    const out: QuotaSpecRule[] = [];
    for (const [i, rr] of (Array.isArray(s.rules) ? s.rules as Record<string, unknown>[] : []).entries()) {
      const quotas = (Array.isArray(rr?.quotas) ? rr.quotas as Record<string, unknown>[] : [])
        .filter((q) => typeof q?.quota === 'string')
        .map((q) => ({ quota: String(q.quota), charge: Number(q.charge ?? 1) || 1 }));
      if (!quotas.length) problem(r, 'MIXER_CONFIG_QUOTA_SPEC', `spec.rules[${i}].quotas: no quota named`, 'Warning');
      const match = (Array.isArray(rr?.match) ? rr.match as { clause?: Record<string, StringMatchSpec> }[] : []).map((m) => m?.clause ?? {});
      out.push({ match, quotas });
    }
    specs.set(`${r.metadata.namespace}/${r.metadata.name}`, out);
  }
  const bindings: QuotaBinding[] = [];
  for (const r of resources) {
    if (r.kind !== 'QuotaSpecBinding') continue;
    const s = spec(r);
    const ns = r.metadata.namespace || 'default';
    const found: QuotaSpecRule[][] = [];
    for (const ref of Array.isArray(s.quotaSpecs) ? s.quotaSpecs as { name?: string; namespace?: string }[] : []) {
      const key = `${ref?.namespace || ns}/${ref?.name}`;
      const qs = specs.get(key);
      if (qs) found.push(qs);
      else problem(r, 'MIXER_CONFIG_QUOTA_SPEC', `spec.quotaSpecs: QuotaSpec ${key} not found`);
    }
    const services = (Array.isArray(s.services) ? s.services : []) as QuotaBinding['services'];
    bindings.push({ resource: resourceKey(r), namespace: ns, services, specs: found });
  }

  return { version, configNamespace: opts.configNamespace, handlers, instances, rules, bindings, problems };
}

/** Whether a binding's service entry names this destination. An entry without a namespace
 *  means the binding's own namespace; a binding in the config namespace (istio-system)
 *  binds by name in any namespace, as Istio 1.1's samples rely on. */
export function bindsService(b: QuotaBinding, svc: QuotaBinding['services'][number], dest: { host?: string; name?: string; namespace?: string }, configNamespace: string): boolean {
  if (svc.service === '*' || svc.name === '*') return true;
  if (svc.service) return svc.service === dest.host || svc.service === dest.name;
  if (!svc.name || svc.name !== dest.name) return false;
  if (svc.namespace) return svc.namespace === dest.namespace;
  return b.namespace === configNamespace || b.namespace === dest.namespace;
}
