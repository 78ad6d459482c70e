// Istio 1.1 Mixer config (config.istio.io/v1alpha2): handlers, instances and rules (generic and
// in their adapter/template kinds), QuotaSpec and QuotaSpecBinding. Checked structurally, with
// the fields mixer relies on checked in depth; mixer interprets the rest.

import { mixerAdapterKinds, mixerTemplateKinds } from '#api';
import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';
import { expressionProblem } from './mixer-expression.js';

function expression(c: FieldChecker, path: string, v: unknown, required = false): void {
  const e = c.string(path, v, { required, nonEmpty: required });
  if (e === undefined || e === '') return;
  const why = expressionProblem(e);
  if (why) c.error(path, `invalid attribute expression ${JSON.stringify(e)}: ${why}`);
}

function expressionMap(c: FieldChecker, path: string, v: unknown): void {
  const m = c.object(path, v);
  if (!m) return;
  for (const [k, e] of Object.entries(m)) {
    // Numbers and booleans are constants, written unquoted in Istio's samples.
    if (typeof e === 'number' || typeof e === 'boolean') continue;
    expression(c, at(path, k), e, true);
  }
}

function headerOperations(c: FieldChecker, path: string, v: unknown): void {
  c.list(path, v)?.forEach((h, i) => {
    const p = at(path, i);
    const o = c.object(p, h, true, ['name', 'values', 'operation']);
    if (!o) return;
    c.string(at(p, 'name'), o.name, { required: true });
    c.strings(at(p, 'values'), o.values);
    c.string(at(p, 'operation'), o.operation, { oneOf: ['REPLACE', 'REMOVE', 'APPEND'] });
  });
}

export function validateRule(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['match', 'actions', 'requestHeaderOperations', 'responseHeaderOperations', 'sampling']);
  expression(c, 'spec.match', spec.match);
  c.list('spec.actions', spec.actions)?.forEach((a, i) => {
    const p = `spec.actions[${i}]`;
    const o = c.object(p, a, true, ['handler', 'instances', 'name']);
    if (!o) return;
    c.string(at(p, 'handler'), o.handler, { required: true });
    c.strings(at(p, 'instances'), o.instances);
    c.string(at(p, 'name'), o.name);
  });
  headerOperations(c, 'spec.requestHeaderOperations', spec.requestHeaderOperations);
  headerOperations(c, 'spec.responseHeaderOperations', spec.responseHeaderOperations);
  c.object('spec.sampling', spec.sampling);
}

export function validateHandler(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['adapter', 'compiledAdapter', 'params', 'connection']);
  const adapter = c.string('spec.adapter', spec.adapter, { nonEmpty: true });
  const compiled = c.string('spec.compiledAdapter', spec.compiledAdapter, { nonEmpty: true });
  if (adapter === undefined && compiled === undefined) c.error('spec', 'needs compiledAdapter (or adapter)');
  if (adapter !== undefined && compiled !== undefined) c.error('spec', 'cannot have both adapter and compiledAdapter');
  if (compiled !== undefined && !mixerAdapterKinds.includes(compiled)) c.warn('spec.compiledAdapter', `unknown compiled adapter ${JSON.stringify(compiled)}`);
  const params = c.object('spec.params', spec.params);
  if (params && compiled !== undefined && adapterValidators[compiled]) adapterValidators[compiled](params, c, 'spec.params');
  const conn = c.object('spec.connection', spec.connection, false, ['address', 'authentication', 'timeout']);
  if (conn) c.string('spec.connection.address', conn.address, { required: true });
}

export function validateInstance(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['template', 'compiledTemplate', 'params', 'attributeBindings']);
  const template = c.string('spec.template', spec.template, { nonEmpty: true });
  const compiled = c.string('spec.compiledTemplate', spec.compiledTemplate, { nonEmpty: true });
  if (template === undefined && compiled === undefined) c.error('spec', 'needs compiledTemplate (or template)');
  if (template !== undefined && compiled !== undefined) c.error('spec', 'cannot have both template and compiledTemplate');
  if (compiled !== undefined && !mixerTemplateKinds.includes(compiled)) c.warn('spec.compiledTemplate', `unknown compiled template ${JSON.stringify(compiled)}`);
  const params = c.object('spec.params', spec.params);
  if (params && compiled !== undefined && templateValidators[compiled]) templateValidators[compiled](params, c, 'spec.params');
  c.stringMap('spec.attributeBindings', spec.attributeBindings);
}

export function validateQuotaSpec(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['rules']);
  c.list('spec.rules', spec.rules, { required: true })?.forEach((r, i) => {
    const p = `spec.rules[${i}]`;
    const o = c.object(p, r, true, ['match', 'quotas']);
    if (!o) return;
    c.list(at(p, 'match'), o.match)?.forEach((m, j) => {
      const mp = at(at(p, 'match'), j);
      const clause = c.object(mp, m, true, ['clause']);
      if (clause) c.object(at(mp, 'clause'), clause.clause);
    });
    c.list(at(p, 'quotas'), o.quotas, { required: true, nonEmpty: true })?.forEach((q, j) => {
      const qp = at(at(p, 'quotas'), j);
      const quota = c.object(qp, q, true, ['quota', 'charge']);
      if (!quota) return;
      c.string(at(qp, 'quota'), quota.quota, { required: true });
      c.int(at(qp, 'charge'), quota.charge, 0);
    });
  });
}

export function validateQuotaSpecBinding(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['services', 'quotaSpecs']);
  c.list('spec.services', spec.services, { required: true, nonEmpty: true })?.forEach((s, i) => {
    const p = `spec.services[${i}]`;
    const o = c.object(p, s, true, ['name', 'namespace', 'domain', 'service']);
    if (!o) return;
    for (const k of ['name', 'namespace', 'domain', 'service'] as const) c.string(at(p, k), o[k]);
    if (o.name === undefined && o.service === undefined) c.error(p, 'needs a name (or service)');
  });
  c.list('spec.quotaSpecs', spec.quotaSpecs, { required: true, nonEmpty: true })?.forEach((q, i) => {
    const p = `spec.quotaSpecs[${i}]`;
    const o = c.object(p, q, true, ['name', 'namespace']);
    if (!o) return;
    c.string(at(p, 'name'), o.name, { required: true });
    c.string(at(p, 'namespace'), o.namespace);
  });
}

type ParamsValidator = (params: Obj, c: FieldChecker, path: string) => void;

/** Adapters whose params mixer reads (in `kind: memquota` form the params are the spec). */
const adapterValidators: Record<string, ParamsValidator> = {
  memquota(p, c, path) {
    const quota = (qp: string, q: unknown, isOverride: boolean) => {
      const o = c.object(qp, q, true, isOverride ? ['dimensions', 'maxAmount', 'validDuration'] : ['name', 'maxAmount', 'validDuration', 'overrides']);
      if (!o) return;
      if (!isOverride) c.string(at(qp, 'name'), o.name, { required: true });
      else c.stringMap(at(qp, 'dimensions'), o.dimensions);
      c.int(at(qp, 'maxAmount'), o.maxAmount, 0, undefined, !isOverride);
      c.duration(at(qp, 'validDuration'), o.validDuration);
      if (!isOverride) c.list(at(qp, 'overrides'), o.overrides)?.forEach((ov, k) => quota(at(at(qp, 'overrides'), k), ov, true));
    };
    c.list(at(path, 'quotas'), p.quotas)?.forEach((q, i) => quota(at(at(path, 'quotas'), i), q, false));
    c.duration(at(path, 'minDeduplicationDuration'), p.minDeduplicationDuration);
  },
  redisquota(p, c, path) {
    c.string(at(path, 'redisServerUrl'), p.redisServerUrl);
    c.list(at(path, 'quotas'), p.quotas);
  },
  denier(p, c, path) {
    const st = c.object(at(path, 'status'), p.status, false, ['code', 'message', 'details']);
    if (st) {
      c.int(at(at(path, 'status'), 'code'), st.code, 0, 16);
      c.string(at(at(path, 'status'), 'message'), st.message);
    }
    c.duration(at(path, 'validDuration'), p.validDuration);
    c.int(at(path, 'validUseCount'), p.validUseCount, 0);
  },
  listchecker(p, c, path) {
    c.string(at(path, 'providerUrl'), p.providerUrl);
    for (const k of ['refreshInterval', 'ttl', 'cachingInterval'] as const) c.duration(at(path, k), p[k]);
    c.int(at(path, 'cachingUseCount'), p.cachingUseCount, 0);
    c.strings(at(path, 'overrides'), p.overrides);
    c.string(at(path, 'entryType'), p.entryType, { oneOf: ['STRINGS', 'CASE_INSENSITIVE_STRINGS', 'IP_ADDRESSES', 'REGEX'] });
    c.bool(at(path, 'blacklist'), p.blacklist);
  },
  prometheus(p, c, path) {
    c.list(at(path, 'metrics'), p.metrics)?.forEach((m, i) => {
      const mp = at(at(path, 'metrics'), i);
      const o = c.object(mp, m, true);
      if (!o) return;
      c.string(at(mp, 'name'), o.name, { required: true });
      c.string(at(mp, 'instance_name'), o.instance_name);
      c.string(at(mp, 'kind'), o.kind, { oneOf: ['COUNTER', 'GAUGE', 'DISTRIBUTION'] });
      c.strings(at(mp, 'label_names'), o.label_names);
    });
  },
  stdio(p, c, path) {
    c.bool(at(path, 'outputAsJson'), p.outputAsJson);
    c.string(at(path, 'logStream'), p.logStream, { oneOf: ['STDOUT', 'STDERR', 'FILE', 'ROTATED_FILE'] });
    c.object(at(path, 'severityLevels'), p.severityLevels);
  },
};

/** Templates whose fields are attribute expressions mixer evaluates. */
const templateValidators: Record<string, ParamsValidator> = {
  metric(p, c, path) {
    expression(c, at(path, 'value'), p.value, true);
    expressionMap(c, at(path, 'dimensions'), p.dimensions);
    c.string(at(path, 'monitored_resource_type'), p.monitored_resource_type);
    expressionMap(c, at(path, 'monitored_resource_dimensions'), p.monitored_resource_dimensions);
  },
  logentry(p, c, path) {
    expression(c, at(path, 'severity'), p.severity);
    expression(c, at(path, 'timestamp'), p.timestamp);
    expressionMap(c, at(path, 'variables'), p.variables);
    c.string(at(path, 'monitored_resource_type'), p.monitored_resource_type);
  },
  quota(p, c, path) {
    expressionMap(c, at(path, 'dimensions'), p.dimensions);
  },
  listentry(p, c, path) {
    expression(c, at(path, 'value'), p.value, true);
  },
  tracespan(p, c, path) {
    for (const k of ['traceId', 'spanId', 'parentSpanId', 'spanName', 'startTime', 'endTime'] as const) expression(c, at(path, k), p[k]);
    expressionMap(c, at(path, 'spanTags'), p.spanTags);
  },
  kubernetes(p, c, path) {
    for (const [k, v] of Object.entries(p)) if (typeof v === 'string') expression(c, at(path, k), v);
  },
};

/** `kind: memquota`, `kind: metric`...: the spec is the adapter's or template's params. */
export function mixerKindValidator(kind: string): ((spec: Obj, c: FieldChecker) => void) | undefined {
  const v = adapterValidators[kind] ?? templateValidators[kind];
  if (v) return (spec, c) => v(spec, c, 'spec');
  if (mixerAdapterKinds.includes(kind) || mixerTemplateKinds.includes(kind)) return () => {};
  return undefined;
}
