// Istio 1.1's stdio adapter: logentry (and metric) instances as JSON lines, the way Istio's
// default access log reaches `kubectl logs mixer`. The last lines also stay in memory for
// /debug/accesslog.
import { appendFileSync } from 'node:fs';
import { HandlerConfigError, type AdapterFactory, type Handler, type Instance } from './handler.js';

const SEVERITIES = ['DEBUG', 'INFO', 'WARNING', 'ERROR'];

export interface StdioHandler extends Handler {
  recent(limit: number): Record<string, unknown>[];
}

function plain(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && ('ms' in v || 'text' in v)) return String(v);
  return v;
}

export const stdioAdapter: AdapterFactory = {
  adapter: 'stdio',
  templates: ['logentry', 'metric'],
  build(name, params, ctx): StdioHandler {
    const stream = String(params.logStream ?? 'STDOUT');
    if (!['STDOUT', 'STDERR', 'FILE'].includes(stream)) throw new HandlerConfigError(`logStream: unknown ${JSON.stringify(stream)}`);
    if (stream === 'FILE' && typeof params.outputPath !== 'string') throw new HandlerConfigError('outputPath: required when logStream is FILE');
    const outputLevel = String(params.outputLevel ?? 'INFO');
    const minLevel = Math.max(0, SEVERITIES.indexOf(outputLevel));
    const severityMap = (params.severityLevels ?? { default: 'INFO' }) as Record<string, string>;
    const write = stream === 'FILE' ? (line: string) => appendFileSync(String(params.outputPath), `${line}\n`) : ctx.output;
    const ring: Record<string, unknown>[] = [];
    let written = 0;
    return {
      name, adapter: 'stdio',
      report(instances: readonly Instance[]) {
        for (const inst of instances) {
          const f = inst.fields;
          const sevRaw = typeof f.severity === 'string' ? f.severity : 'default';
          const severity = severityMap[sevRaw] ?? (SEVERITIES.includes(sevRaw.toUpperCase()) ? sevRaw.toUpperCase() : severityMap.default ?? 'INFO');
          if (SEVERITIES.indexOf(severity) < minLevel) continue;
          const vars = (inst.template === 'metric' ? { value: f.value, ...(f.dimensions as object ?? {}) } : f.variables ?? {}) as Record<string, unknown>;
          const entry: Record<string, unknown> = {
            level: severity.toLowerCase(),
            time: (f.timestamp instanceof Date ? f.timestamp : new Date(ctx.now())).toISOString(),
            instance: inst.name,
          };
          for (const [k, v] of Object.entries(vars)) entry[k] = plain(v);
          try {
            write(JSON.stringify(entry));
            written++;
          } catch (err) {
            ctx.log.warn({ err, handler: name }, 'stdio handler could not write');
          }
          ring.push(entry);
          if (ring.length > 200) ring.shift();
        }
      },
      recent: (limit) => ring.slice(-limit),
      describe: () => ({ logStream: stream, written }),
    };
  },
};
