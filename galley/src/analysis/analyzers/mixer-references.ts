// IST0101 for Istio 1.1's Mixer config: a rule's handler and instances, and a
// QuotaSpecBinding's QuotaSpecs, must exist. References are `name.kind[.namespace]` (a handler
// or instance written in its adapter's or template's kind) or `name[.namespace]` (a generic
// `handler` / `instance`); the namespace defaults to the rule's.

import { mixerAdapterKinds, mixerTemplateKinds } from '#api';
import type { Analyzer } from '../context.js';
import { messageTypes } from '../messages.js';

function resolves(ref: string, namespace: string, generic: 'handler' | 'instance', typed: readonly string[], has: (kind: string, ns: string, name: string) => boolean): boolean {
  const parts = ref.split('.');
  const [name, second, third] = parts;
  if (!name) return false;
  if (second !== undefined && typed.includes(second) && has(second, third ?? namespace, name)) return true;
  // `name.namespace` or `name` for the generic kind; also a namespace-qualified FQDN tail.
  return has(generic, second ?? namespace, name) || (parts.length === 1 && typed.some((k) => has(k, namespace, name)));
}

export const mixerReferences: Analyzer = {
  name: 'mixer.references',
  description: 'Checks that Mixer rules name existing handlers and instances, and QuotaSpecBindings existing QuotaSpecs',
  analyze(ctx) {
    const keys = new Set(ctx.resources.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`));
    const has = (kind: string, ns: string, name: string) => keys.has(`${kind}/${ns}/${name}`);
    for (const rule of ctx.ofKind('rule')) {
      const actions = (rule.spec as { actions?: unknown }).actions;
      if (!Array.isArray(actions)) continue;
      actions.forEach((a, i) => {
        const { handler, instances } = (a ?? {}) as { handler?: unknown; instances?: unknown };
        if (typeof handler === 'string' && !resolves(handler, rule.metadata.namespace, 'handler', mixerAdapterKinds, has)) {
          ctx.report(rule, messageTypes.ReferencedResourceNotFound, `Referenced handler not found: "${handler}"`, `spec.actions[${i}].handler`);
        }
        if (!Array.isArray(instances)) return;
        instances.forEach((inst, j) => {
          if (typeof inst === 'string' && !resolves(inst, rule.metadata.namespace, 'instance', mixerTemplateKinds, has)) {
            ctx.report(rule, messageTypes.ReferencedResourceNotFound, `Referenced instance not found: "${inst}"`, `spec.actions[${i}].instances[${j}]`);
          }
        });
      });
    }
    for (const binding of ctx.ofKind('QuotaSpecBinding')) {
      const specs = (binding.spec as { quotaSpecs?: unknown }).quotaSpecs;
      if (!Array.isArray(specs)) continue;
      specs.forEach((q, i) => {
        const { name, namespace } = (q ?? {}) as { name?: unknown; namespace?: unknown };
        if (typeof name !== 'string') return;
        const ns = typeof namespace === 'string' && namespace ? namespace : binding.metadata.namespace;
        if (!has('QuotaSpec', ns, name)) {
          ctx.report(binding, messageTypes.ReferencedResourceNotFound, `Referenced quotaspec not found: "${ns}/${name}"`, `spec.quotaSpecs[${i}]`);
        }
      });
    }
  },
};

