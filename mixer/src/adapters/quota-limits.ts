// The quota limits memquota and redisquota share: per quota instance a maxAmount and a
// validDuration, with overrides chosen by the instance's dimensions (the first override whose
// dimensions all equal the instance's wins, as Istio 1.1 documents).
import { durationMs, intParam, HandlerConfigError, type Instance } from './handler.js';

export interface QuotaLimit {
  maxAmount: number;
  validDurationMs: number;
}

interface QuotaDef extends QuotaLimit {
  name: string;
  overrides: { dimensions: Record<string, string>; limit: QuotaLimit }[];
}

export class QuotaLimits {
  private readonly byName = new Map<string, QuotaDef>();

  constructor(quotas: unknown, defaultDurationMs: number) {
    if (!Array.isArray(quotas)) throw new HandlerConfigError('quotas: expected a list');
    quotas.forEach((q: Record<string, unknown>, i) => {
      const place = `quotas[${i}]`;
      if (!q || typeof q.name !== 'string') throw new HandlerConfigError(`${place}.name: required (the quota instance, e.g. requestcount.quota.istio-system)`);
      const def: QuotaDef = {
        name: q.name,
        maxAmount: intParam(q.maxAmount, `${place}.maxAmount`, 0),
        validDurationMs: durationMs(q.validDuration, `${place}.validDuration`, defaultDurationMs),
        overrides: [],
      };
      const overrides = q.overrides ?? [];
      if (!Array.isArray(overrides)) throw new HandlerConfigError(`${place}.overrides: expected a list`);
      overrides.forEach((o: Record<string, unknown>, j) => {
        const op = `${place}.overrides[${j}]`;
        const dims = (o?.dimensions ?? {}) as Record<string, unknown>;
        if (typeof dims !== 'object') throw new HandlerConfigError(`${op}.dimensions: expected a map`);
        def.overrides.push({
          dimensions: Object.fromEntries(Object.entries(dims).map(([k, v]) => [k, String(v)])),
          limit: { maxAmount: intParam(o.maxAmount, `${op}.maxAmount`, def.maxAmount), validDurationMs: durationMs(o.validDuration, `${op}.validDuration`, def.validDurationMs) },
        });
      });
      this.byName.set(q.name, def);
    });
  }

  /** The limit for an instance and the key its allocations count under; undefined: no quota configured (unlimited). */
  resolve(instance: Instance): { limit: QuotaLimit; key: string } | undefined {
    const def = this.byName.get(instance.name) ?? this.byShortName(instance.name);
    if (!def) return undefined;
    const dims = (instance.fields.dimensions ?? {}) as Record<string, unknown>;
    const dimText = Object.fromEntries(Object.entries(dims).map(([k, v]) => [k, v === undefined || v === null ? '' : String(v)]));
    const hit = def.overrides.find((o) => Object.entries(o.dimensions).every(([k, v]) => dimText[k] === v));
    const key = `${def.name}\u0001${JSON.stringify(Object.entries(dimText).sort())}`;
    return { limit: hit ? hit.limit : def, key };
  }

  /** `requestcount.instance.istio-system` finds `requestcount.quota.istio-system` (or plain `requestcount`):
   *  the same instance named in the generic and the per-template style. */
  private byShortName(fq: string): QuotaDef | undefined {
    const parts = fq.split('.');
    const short = parts[0]!, ns = parts.length > 2 ? parts[parts.length - 1] : undefined;
    for (const [name, def] of this.byName) {
      const p = name.split('.');
      if (p[0] === short && (p.length === 1 || ns === undefined || p[p.length - 1] === ns)) return def;
    }
    return undefined;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
