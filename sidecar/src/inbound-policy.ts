// The inbound policy pilot pushed (mTLS mode per port, authorization, JWT rules), checked once
// per config: a malformed policy is a NACK and the previous one keeps being enforced. Before
// pilot has spoken, and for configs without a policy, inbound is STRICT with no authorization.

import type { AuthzPolicy, InboundPolicy, JwtRule, MtlsMode, ProxyConfig } from '#api';
import { ConfigError, configErrorCodes, type CompiledConfig } from './compile.js';

export interface CompiledInboundPolicy {
  policy: InboundPolicy;
  /** The mode for a service port (`"9080"`). */
  modeFor(port: string): MtlsMode;
  /** True when some port accepts plaintext: only then is a plaintext connection kept open. */
  acceptsPlaintext: boolean;
}

const MODES = new Set<MtlsMode>(['STRICT', 'PERMISSIVE', 'DISABLE']);
const ACTIONS = new Set(['ALLOW', 'DENY', 'AUDIT']);

function fail(place: string, message: string): never {
  throw new ConfigError(configErrorCodes.invalidValue, `inboundPolicy.${place}`, message);
}

function checkPolicies(list: unknown): AuthzPolicy[] {
  if (!Array.isArray(list)) fail('authz', 'expected a list');
  list.forEach((p: Partial<AuthzPolicy> | null, i) => {
    if (!p || typeof p.name !== 'string') fail(`authz[${i}]`, 'policy without a name');
    if (!ACTIONS.has(p.action as string)) fail(`authz[${p.name}].action`, `unknown action ${JSON.stringify(p.action)}`);
    if (!Array.isArray(p.rules)) fail(`authz[${p.name}].rules`, 'expected a list');
    for (const r of p.rules) {
      if (!r || typeof r !== 'object') fail(`authz[${p.name}].rules`, 'rule is not an object');
      for (const k of ['from', 'to', 'when'] as const) if (r[k] !== undefined && !Array.isArray(r[k])) fail(`authz[${p.name}].rules.${k}`, 'expected a list');
    }
  });
  return list as AuthzPolicy[];
}

function checkJwt(list: unknown): JwtRule[] {
  if (!Array.isArray(list)) fail('jwt', 'expected a list');
  list.forEach((j: Partial<JwtRule> | null, i) => {
    if (!j || typeof j.issuer !== 'string' || !j.issuer) fail(`jwt[${i}]`, 'rule without an issuer');
    if (j.jwks === undefined && (typeof j.jwksUri !== 'string' || !/^https?:\/\//.test(j.jwksUri))) fail(`jwt[${j.issuer}]`, 'needs jwks or an http(s) jwksUri');
  });
  return list as JwtRule[];
}

export function compileInboundPolicy(config: ProxyConfig | undefined): CompiledInboundPolicy {
  const listenerMode = config?.listeners?.find((l) => l.kind === 'inbound')?.mtlsMode;
  const raw = config?.inboundPolicy;
  let policy: InboundPolicy;
  if (raw === undefined) {
    policy = { mtls: { mode: listenerMode && MODES.has(listenerMode) ? listenerMode : 'STRICT' }, authz: [], jwt: [] };
  } else {
    if (!raw || typeof raw !== 'object' || !raw.mtls) fail('mtls', 'missing');
    if (!MODES.has(raw.mtls.mode)) fail('mtls.mode', `unknown mode ${JSON.stringify(raw.mtls.mode)}`);
    for (const [port, m] of Object.entries(raw.mtls.ports ?? {})) {
      if (!/^\d+$/.test(port)) fail(`mtls.ports[${port}]`, 'not a port number');
      if (!MODES.has(m)) fail(`mtls.ports[${port}]`, `unknown mode ${JSON.stringify(m)}`);
    }
    const esc = raw.pathNormalization?.escapedSlashes;
    if (esc !== undefined && esc !== 'REJECT' && esc !== 'DECODE') fail('pathNormalization.escapedSlashes', `unknown value ${JSON.stringify(esc)}`);
    policy = { ...raw, authz: checkPolicies(raw.authz ?? []), jwt: checkJwt(raw.jwt ?? []) };
  }
  const ports = policy.mtls.ports ?? {};
  const modes = [policy.mtls.mode, ...Object.values(ports)];
  return {
    policy,
    modeFor: (port) => ports[port] ?? policy.mtls.mode,
    acceptsPlaintext: modes.some((m) => m !== 'STRICT'),
  };
}

const DEFAULT = compileInboundPolicy(undefined);
const cache = new WeakMap<CompiledConfig, CompiledInboundPolicy>();

/** Compiles and remembers the policy of a config (the apply hook calls it before the swap). */
export function prepareInboundPolicy(c: CompiledConfig): CompiledInboundPolicy {
  let hit = cache.get(c);
  if (!hit) {
    hit = compileInboundPolicy(c.config);
    cache.set(c, hit);
  }
  return hit;
}

export function inboundPolicyOf(c: CompiledConfig | undefined): CompiledInboundPolicy {
  return c ? prepareInboundPolicy(c) : DEFAULT;
}
