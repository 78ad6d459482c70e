// Policy checks (Istio 1.1 Mixer Check). This increment allows everything; the seam is the
// rule list: deny rules, list checks and quotas plug in as CheckRules and are evaluated in order,
// the first rule with an opinion decides.
import { Counter, type Registry } from 'prom-client';
import { subjects, type Bus, type CheckRequest, type CheckResponse } from '#api';

export interface CheckRule {
  readonly name: string;
  /** undefined: no opinion, ask the next rule. */
  evaluate(req: CheckRequest): CheckResponse | undefined;
}

export interface CheckEngineOptions {
  registry: Registry;
  rules?: CheckRule[];
  validDurationMs: number;
  validUseCount: number;
}

export class CheckEngine {
  private rules: CheckRule[];
  private readonly checks: Counter<'result'>;
  private readonly totals = { allowed: 0, denied: 0, invalid: 0 };

  constructor(private readonly opts: CheckEngineOptions) {
    this.rules = opts.rules ?? [];
    this.checks = new Counter({ name: 'mixer_check_total', help: 'policy checks answered', labelNames: ['result'], registers: [opts.registry] });
  }

  /** Replaces the rule set at once (config pushes will call this). */
  setRules(rules: CheckRule[]): void {
    this.rules = rules;
  }

  check(req: unknown): CheckResponse {
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      this.checks.inc({ result: 'invalid' });
      this.totals.invalid++;
      return { allowed: false, code: 'INVALID_ARGUMENT', message: 'check request: expected a JSON object', validDurationMs: 0, validUseCount: 1 };
    }
    for (const rule of this.rules) {
      const answer = rule.evaluate(req as CheckRequest);
      if (answer) return this.count({ ...answer, rule: answer.rule ?? rule.name });
    }
    return this.count({ allowed: true, validDurationMs: this.opts.validDurationMs, validUseCount: this.opts.validUseCount });
  }

  private count(answer: CheckResponse): CheckResponse {
    const result = answer.allowed ? 'allowed' : 'denied';
    this.checks.inc({ result });
    this.totals[result]++;
    return answer;
  }

  describe(): Record<string, unknown> {
    return { rules: this.rules.map((r) => r.name), totals: { ...this.totals } };
  }
}

export function subscribeChecks(bus: Bus, engine: CheckEngine) {
  return bus.subscribe<unknown>(subjects.policyCheck, (m) => { m.respond(engine.check(m.data)); }, { queue: 'mixer' });
}
