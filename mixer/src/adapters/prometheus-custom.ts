// Istio 1.1's prometheus adapter for configured metrics: each `metrics` entry turns the
// instances named by instance_name into a COUNTER, GAUGE or DISTRIBUTION called
// `istio_<name>` in mixer's registry (the built-in standard metrics are prometheus.ts).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HandlerConfigError, type AdapterFactory, type Handler, type Instance } from './handler.js';

interface MetricDef {
  fullName: string;
  instanceName: string;
  kind: 'COUNTER' | 'GAUGE' | 'DISTRIBUTION';
  labelNames: string[];
  metric: Counter<string> | Gauge<string> | Histogram<string>;
}

function buckets(b: unknown, place: string): number[] | undefined {
  if (b === undefined || b === null) return undefined;
  const o = b as Record<string, Record<string, number> & { bounds?: number[] }>;
  const explicit = o.explicit_buckets ?? o.explicitBuckets;
  if (explicit?.bounds) return [...explicit.bounds];
  const linear = o.linear_buckets ?? o.linearBuckets;
  if (linear) {
    const n = linear.num_finite_buckets ?? linear.numFiniteBuckets ?? 0, width = linear.width ?? 1, offset = linear.offset ?? 0;
    return Array.from({ length: n + 1 }, (_, i) => offset + i * width);
  }
  const exp = o.exponential_buckets ?? o.exponentialBuckets;
  if (exp) {
    const n = exp.num_finite_buckets ?? exp.numFiniteBuckets ?? 0, growth = exp.growth_factor ?? exp.growthFactor ?? 2, scale = exp.scale ?? 1;
    return Array.from({ length: n + 1 }, (_, i) => scale * growth ** i);
  }
  throw new HandlerConfigError(`${place}.buckets: expected explicit_buckets, linear_buckets or exponential_buckets`);
}

function label(v: unknown): string {
  if (v === undefined || v === null || v === '') return 'unknown';
  return typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : String(v);
}

function numeric(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'ms' in v) return Number((v as { ms: number }).ms);
  const n = Number(v);
  return Number.isFinite(n) ? n : 1;
}

export function buildPrometheusHandler(name: string, params: Record<string, unknown>, registry: Registry): Handler {
  const list = params.metrics ?? [];
  if (!Array.isArray(list)) throw new HandlerConfigError('metrics: expected a list');
  const defs: MetricDef[] = [];
  const created: string[] = [];
  try {
    list.forEach((m: Record<string, unknown>, i) => {
      const place = `metrics[${i}]`;
      if (!m || typeof m.name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(m.name)) throw new HandlerConfigError(`${place}.name: ${JSON.stringify(m?.name)} is not a Prometheus metric name`);
      if (typeof m.instance_name !== 'string' && typeof m.instanceName !== 'string') throw new HandlerConfigError(`${place}.instance_name: required`);
      const kind = String(m.kind ?? 'COUNTER') as MetricDef['kind'];
      if (!['COUNTER', 'GAUGE', 'DISTRIBUTION'].includes(kind)) throw new HandlerConfigError(`${place}.kind: unknown ${JSON.stringify(kind)}`);
      const labelNames = (m.label_names ?? m.labelNames ?? []) as string[];
      if (!Array.isArray(labelNames) || labelNames.some((l) => typeof l !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l))) throw new HandlerConfigError(`${place}.label_names: expected label names`);
      const fullName = `istio_${m.name}`;
      if (registry.getSingleMetric(fullName)) throw new HandlerConfigError(`${place}.name: metric ${fullName} already exists (a standard metric or another handler's)`);
      const help = typeof m.description === 'string' && m.description ? m.description : m.name;
      const common = { name: fullName, help, labelNames, registers: [registry] };
      const metric = kind === 'COUNTER' ? new Counter(common) : kind === 'GAUGE' ? new Gauge(common) : new Histogram({ ...common, ...(buckets(m.buckets, place) ? { buckets: buckets(m.buckets, place)! } : {}) });
      created.push(fullName);
      defs.push({ fullName, instanceName: String(m.instance_name ?? m.instanceName), kind, labelNames, metric });
    });
  } catch (err) {
    for (const n of created) registry.removeSingleMetric(n);
    throw err;
  }
  const byInstance = new Map<string, MetricDef[]>();
  for (const d of defs) byInstance.set(d.instanceName, [...(byInstance.get(d.instanceName) ?? []), d]);
  let reported = 0;
  return {
    name, adapter: 'prometheus',
    report(instances: readonly Instance[]) {
      for (const inst of instances) {
        const targets = byInstance.get(inst.name);
        if (!targets) continue;
        const dims = (inst.fields.dimensions ?? {}) as Record<string, unknown>;
        for (const d of targets) {
          const labels = Object.fromEntries(d.labelNames.map((l) => [l, label(dims[l])]));
          const v = numeric(inst.fields.value);
          if (d.kind === 'COUNTER') (d.metric as Counter<string>).inc(labels, v);
          else if (d.kind === 'GAUGE') (d.metric as Gauge<string>).set(labels, v);
          else (d.metric as Histogram<string>).observe(labels, v);
          reported++;
        }
      }
    },
    describe: () => ({ metrics: defs.map((d) => ({ name: d.fullName, instance: d.instanceName, kind: d.kind })), reported }),
    close: () => { for (const d of defs) registry.removeSingleMetric(d.fullName); },
  };
}

export const prometheusAdapter: AdapterFactory = {
  adapter: 'prometheus',
  templates: ['metric'],
  build: (name, params, ctx) => buildPrometheusHandler(name, params, ctx.registry),
};
