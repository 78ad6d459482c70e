// RequestAuthentication field validation (security.istio.io v1beta1/v1): JWT rules with an
// issuer, a JWKS given inline (valid JSON with keys) or as an http(s) URI, token locations.

import { childPath as at } from '../field-path.js';
import { checkTargetRefs } from './authorization-policy.js';
import { FieldChecker, isObject, type Obj } from './checks.js';

const jwtRuleFields = ['issuer', 'audiences', 'jwksUri', 'jwks', 'fromHeaders', 'fromParams', 'fromCookies', 'outputPayloadToHeader',
  'forwardOriginalToken', 'outputClaimToHeaders', 'timeout'];

export function validateRequestAuthentication(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['selector', 'targetRef', 'targetRefs', 'jwtRules']);
  c.selector('spec.selector', spec.selector, 'matchLabels');
  checkTargetRefs(c, spec);
  const issuers = new Map<string, number>();
  c.list('spec.jwtRules', spec.jwtRules)?.forEach((r, i) => {
    const p = `spec.jwtRules[${i}]`;
    const rule = c.object(p, r, true, jwtRuleFields);
    if (!rule) return;
    const issuer = c.string(at(p, 'issuer'), rule.issuer, { required: true });
    if (issuer !== undefined) {
      if (issuers.has(issuer)) c.warn(at(p, 'issuer'), `issuer ${JSON.stringify(issuer)} is also used by spec.jwtRules[${issuers.get(issuer)}]`);
      issuers.set(issuer, i);
    }
    c.strings(at(p, 'audiences'), rule.audiences);
    const uri = c.string(at(p, 'jwksUri'), rule.jwksUri, { nonEmpty: true });
    if (uri !== undefined) {
      let ok = false;
      try { ok = ['http:', 'https:'].includes(new URL(uri).protocol); } catch { /* reported below */ }
      if (!ok) c.error(at(p, 'jwksUri'), `${JSON.stringify(uri)} is not an http(s) URL`);
    }
    const jwks = c.string(at(p, 'jwks'), rule.jwks, { nonEmpty: true });
    if (jwks !== undefined) {
      let parsed: unknown;
      try { parsed = JSON.parse(jwks); } catch (err) { c.error(at(p, 'jwks'), `is not valid JSON: ${(err as Error).message}`); }
      if (parsed !== undefined && !(isObject(parsed) && Array.isArray(parsed.keys))) c.error(at(p, 'jwks'), 'must be a JSON Web Key Set ({"keys": [...]})');
    }
    c.list(at(p, 'fromHeaders'), rule.fromHeaders)?.forEach((h, j) => {
      const hp = at(at(p, 'fromHeaders'), j);
      const o = c.object(hp, h, true, ['name', 'prefix']);
      if (!o) return;
      c.string(at(hp, 'name'), o.name, { required: true });
      c.string(at(hp, 'prefix'), o.prefix);
    });
    c.strings(at(p, 'fromParams'), rule.fromParams);
    c.strings(at(p, 'fromCookies'), rule.fromCookies);
    c.string(at(p, 'outputPayloadToHeader'), rule.outputPayloadToHeader);
    c.bool(at(p, 'forwardOriginalToken'), rule.forwardOriginalToken);
    c.duration(at(p, 'timeout'), rule.timeout);
    c.list(at(p, 'outputClaimToHeaders'), rule.outputClaimToHeaders)?.forEach((h, j) => {
      const hp = at(at(p, 'outputClaimToHeaders'), j);
      const o = c.object(hp, h, true, ['header', 'claim']);
      if (!o) return;
      c.string(at(hp, 'header'), o.header, { required: true });
      c.string(at(hp, 'claim'), o.claim, { required: true });
    });
  });
}
