// Policy checks (Istio 1.1 Mixer Check) over the bus (queue group `mixer`) and HTTP: a shape
// check of the request, then the runtime's rules and quotas. Every answer says which
// attributes it depended on and how long it holds, so sidecars answer repeats from their cache.
import { Counter, Histogram, type Registry } from 'prom-client';
import { subjects, type Bus, type CheckRequest, type CheckResponse, type Logger } from '#api';
import type { MixerRuntime } from './runtime.js';

export interface CheckEngineOptions {
  registry: Registry;
  runtime: MixerRuntime;
  log: Logger;
}

function shapeError(req: unknown): string | undefined {
  if (req === null || typeof req !== 'object' || Array.isArray(req)) return 'check request: expected a JSON object';
  const r = req as Record<string, unknown>;
  for (const k of ['source', 'destination'] as const) {
    if (r[k] !== undefined && (r[k] === null || typeof r[k] !== 'object')) return `check request: field "${k}" must be an object`;
  }
  if (r.request !== undefined && (r.request === null || typeof r.request !== 'object')) return 'check request: field "request" must be an object';
  return undefined;
}

export class CheckEngine {
  private readonly checks: Counter<'result'>;
  private readonly duration: Histogram<string>;
  private readonly totals = { allowed: 0, denied: 0, invalid: 0 };

  constructor(private readonly opts: CheckEngineOptions) {
    const registers = [opts.registry];
    this.checks = new Counter({ name: 'mixer_check_total', help: 'policy checks answered', labelNames: ['result'], registers });
    this.duration = new Histogram({ name: 'mixer_check_duration_seconds', help: 'time mixer took to answer a check', buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5], registers });
  }

  async check(req: unknown): Promise<CheckResponse> {
    const bad = shapeError(req);
    if (bad) {
      this.checks.inc({ result: 'invalid' });
      this.totals.invalid++;
      return { allowed: false, code: 'INVALID_ARGUMENT', message: `INVALID_ARGUMENT:mixer:${bad}`, httpStatus: 400, validDurationMs: 0, validUseCount: 1 };
    }
    const end = this.duration.startTimer();
    try {
      const answer = await this.opts.runtime.check(req as CheckRequest);
      const result = answer.allowed ? 'allowed' : 'denied';
      this.checks.inc({ result });
      this.totals[result]++;
      return answer;
    } catch (err) {
      // A bug in a rule must not take the mesh down: answer UNAVAILABLE, uncached, and let the
      // sidecar's fail policy decide.
      this.opts.log.error({ err }, 'check failed');
      this.checks.inc({ result: 'invalid' });
      this.totals.invalid++;
      return { allowed: false, code: 'UNAVAILABLE', message: 'UNAVAILABLE:mixer:internal error', httpStatus: 503, validDurationMs: 0, validUseCount: 1 };
    } finally {
      end();
    }
  }

  describe(): Record<string, unknown> {
    return { configVersion: this.opts.runtime.version, totals: { ...this.totals } };
  }
}

export function subscribeChecks(bus: Bus, engine: CheckEngine) {
  return bus.subscribe<unknown>(subjects.policyCheck, async (m) => { m.respond(await engine.check(m.data)); }, { queue: 'mixer' });
}
