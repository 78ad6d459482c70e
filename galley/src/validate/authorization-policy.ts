// AuthorizationPolicy field validation (security.istio.io v1beta1/v1), with Istio's rules:
// the action and its provider, non-empty sources and operations, supported condition keys,
// IP blocks, ports, and path templates.

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';

const sourceFields = ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains'];
const operationFields = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'];

/** Condition keys Istio accepts in `when` (exact, or as a prefix for the bracketed forms). */
const conditionKeys = ['source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'request.auth.principal',
  'request.auth.audiences', 'request.auth.presenter', 'destination.ip', 'destination.port', 'connection.sni'];
const conditionPrefixes = [/^request\.headers\[[^\]]+\]$/, /^request\.auth\.claims(\[[^\]]+\])+$/, /^experimental\.envoy\.filters\.[\w.]+\[[^\]]+\]$/];

/** Istio's path templates: `{*}` one segment, `{**}` the rest, only as whole segments; `*` alone only at one end. */
function pathProblem(p: string): string | undefined {
  if (p.includes('{')) {
    if (!p.startsWith('/')) return 'a path template must start with /';
    const segments = p.split('/');
    for (const [i, s] of segments.entries()) {
      if (s.includes('{') && s !== '{*}' && s !== '{**}') return `segment ${JSON.stringify(s)}: only {*} and {**} are supported, as whole segments`;
      if (s === '{**}' && segments.slice(i + 1).some((x) => x === '{**}')) return '{**} may appear only once';
    }
    return undefined;
  }
  const stars = p.split('*').length - 1;
  if (stars > 1 || (stars === 1 && p !== '*' && !p.startsWith('*') && !p.endsWith('*'))) return 'a wildcard * is allowed only at the start or the end';
  return undefined;
}

export function checkTargetRefs(c: FieldChecker, spec: Obj): void {
  const check = (path: string, v: unknown) => {
    const t = c.object(path, v, true, ['group', 'kind', 'name', 'namespace']);
    if (!t) return;
    c.string(at(path, 'group'), t.group);
    c.string(at(path, 'kind'), t.kind, { required: true });
    c.string(at(path, 'name'), t.name, { required: true });
    c.string(at(path, 'namespace'), t.namespace);
  };
  if (spec.targetRef !== undefined) check('spec.targetRef', spec.targetRef);
  c.list('spec.targetRefs', spec.targetRefs)?.forEach((t, i) => check(`spec.targetRefs[${i}]`, t));
  const targeted = spec.targetRef !== undefined || (Array.isArray(spec.targetRefs) && spec.targetRefs.length > 0);
  if (targeted && spec.selector !== undefined) c.error('spec.selector', 'cannot be used together with targetRef(s)');
}

export function validateAuthorizationPolicy(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['selector', 'targetRef', 'targetRefs', 'rules', 'action', 'provider']);
  c.selector('spec.selector', spec.selector, 'matchLabels');
  checkTargetRefs(c, spec);
  const action = c.string('spec.action', spec.action, { oneOf: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] });
  const provider = c.object('spec.provider', spec.provider, false, ['name']);
  if (provider) c.string('spec.provider.name', provider.name, { required: true });
  if (action === 'CUSTOM' && !provider) c.error('spec.provider', 'action CUSTOM needs a provider');
  if (action !== 'CUSTOM' && provider) c.error('spec.provider', 'a provider is only allowed with action CUSTOM');

  c.list('spec.rules', spec.rules)?.forEach((r, i) => {
    const p = `spec.rules[${i}]`;
    // An empty rule (`- {}`) matches every request: valid.
    const rule = c.object(p, r, true, ['from', 'to', 'when']);
    if (!rule) return;
    c.list(at(p, 'from'), rule.from, { nonEmpty: true })?.forEach((f, j) => {
      const fp = at(at(p, 'from'), j);
      const from = c.object(fp, f, true, ['source']);
      if (!from) return;
      const src = c.object(at(fp, 'source'), from.source, true, sourceFields);
      if (!src) return;
      if (Object.keys(src).length === 0) c.error(at(fp, 'source'), 'must set at least one field');
      for (const k of sourceFields) {
        const list = c.strings(at(at(fp, 'source'), k), src[k], { nonEmpty: true });
        if (list && /IpBlocks$/i.test(k)) list.forEach((ip, n) => c.ipOrCidr(at(at(at(fp, 'source'), k), n), ip));
      }
    });
    c.list(at(p, 'to'), rule.to, { nonEmpty: true })?.forEach((t, j) => {
      const tp = at(at(p, 'to'), j);
      const to = c.object(tp, t, true, ['operation']);
      if (!to) return;
      const op = c.object(at(tp, 'operation'), to.operation, true, operationFields);
      if (!op) return;
      if (Object.keys(op).length === 0) c.error(at(tp, 'operation'), 'must set at least one field');
      for (const k of operationFields) {
        const list = c.strings(at(at(tp, 'operation'), k), op[k], { nonEmpty: true });
        if (!list) continue;
        list.forEach((v, n) => {
          const vp = at(at(at(tp, 'operation'), k), n);
          if (k === 'ports' || k === 'notPorts') {
            if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) c.error(vp, `${JSON.stringify(v)} is not a port (1-65535)`);
          } else if (k === 'paths' || k === 'notPaths') {
            const why = pathProblem(v);
            if (why) c.error(vp, `${JSON.stringify(v)}: ${why}`);
          }
        });
      }
    });
    c.list(at(p, 'when'), rule.when, { nonEmpty: true })?.forEach((w, j) => {
      const wp = at(at(p, 'when'), j);
      const cond = c.object(wp, w, true, ['key', 'values', 'notValues']);
      if (!cond) return;
      const key = c.string(at(wp, 'key'), cond.key, { required: true });
      if (key !== undefined && !conditionKeys.includes(key) && !conditionPrefixes.some((re) => re.test(key))) {
        c.error(at(wp, 'key'), `unknown condition key ${JSON.stringify(key)} (supported: ${conditionKeys.join(', ')}, request.headers[NAME], request.auth.claims[NAME])`);
      }
      const values = c.strings(at(wp, 'values'), cond.values);
      const notValues = c.strings(at(wp, 'notValues'), cond.notValues);
      if (!values?.length && !notValues?.length) c.error(wp, 'needs values or notValues');
      if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') {
        values?.forEach((v, n) => c.ipOrCidr(at(at(wp, 'values'), n), v));
        notValues?.forEach((v, n) => c.ipOrCidr(at(at(wp, 'notValues'), n), v));
      }
      if (key === 'destination.port') {
        for (const [field, list] of [['values', values], ['notValues', notValues]] as const) {
          list?.forEach((v, n) => { if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) c.error(at(at(wp, field), n), `${JSON.stringify(v)} is not a port (1-65535)`); });
        }
      }
    });
  });
}
