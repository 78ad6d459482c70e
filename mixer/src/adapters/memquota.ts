// Istio 1.1's memquota: quotas held in mixer's memory, per dimension set, over a rolling
// window of validDuration (every allocation expires validDuration after it was made;
// validDuration 0: allocations never expire, a plain cap).
import type { AdapterFactory, Handler, QuotaResult } from './handler.js';
import { QuotaLimits } from './quota-limits.js';

const MAX_KEYS = 50_000;

export const memquotaAdapter: AdapterFactory = {
  adapter: 'memquota',
  templates: ['quota'],
  build(name, params, ctx): Handler {
    const limits = new QuotaLimits(params.quotas ?? [], 0);
    /** Per key: allocations as [expiresAt, amount], oldest first. */
    const windows = new Map<string, { log: [number, number][]; used: number }>();
    let granted = 0, denied = 0;
    return {
      name, adapter: 'memquota',
      quota(instance, args): QuotaResult {
        const r = limits.resolve(instance);
        if (!r) return { granted: args.amount, validDurationMs: 0 };
        const now = ctx.now();
        let w = windows.get(r.key);
        if (!w) {
          if (windows.size >= MAX_KEYS) windows.delete(windows.keys().next().value!);
          w = { log: [], used: 0 };
          windows.set(r.key, w);
        }
        while (w.log.length && w.log[0]![0] <= now) w.used -= w.log.shift()![1];
        const left = Math.max(0, r.limit.maxAmount - w.used);
        const grant = left >= args.amount ? args.amount : args.bestEffort ? left : 0;
        if (grant > 0) {
          const expires = r.limit.validDurationMs > 0 ? now + r.limit.validDurationMs : Number.POSITIVE_INFINITY;
          w.log.push([expires, grant]);
          w.used += grant;
          granted++;
          return { granted: grant, validDurationMs: r.limit.validDurationMs };
        }
        denied++;
        // Denied until the oldest allocation expires (never, for a cap without a window).
        const first = w.log[0];
        const retry = first && Number.isFinite(first[0]) ? Math.max(1, first[0] - now) : 0;
        return { granted: 0, validDurationMs: retry };
      },
      describe: () => ({ quotas: limits.names(), keys: windows.size, granted, denied }),
    };
  },
};
