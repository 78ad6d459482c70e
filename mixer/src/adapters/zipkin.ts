// Istio 1.1's zipkin adapter: tracespan instances POSTed as Zipkin v2 JSON to `url`, sampled
// by `sampleProbability`, one POST per report batch (failures are counted, never retried).
import { createHash } from 'node:crypto';
import { HandlerConfigError, type AdapterFactory, type Instance } from './handler.js';
import type { ZipkinSpan } from '../tracing/traces.js';

const hexId = (v: unknown, n: number, seed: string) => {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  return /^[0-9a-f]+$/.test(s) && (s.length === 16 || s.length === 32) ? s.slice(-n) : createHash('sha256').update(seed).digest('hex').slice(0, n);
};
const micros = (v: unknown) => (v instanceof Date ? v.getTime() * 1000 : typeof v === 'number' ? v * 1000 : Date.now() * 1000);

export function tracespanToZipkin(inst: Instance): ZipkinSpan {
  const f = inst.fields;
  const seed = JSON.stringify([f.traceId, f.spanId, f.spanName, String(f.startTime), f.sourceName, f.destinationName]);
  const start = micros(f.startTime);
  const client = f.clientSpan === true;
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries((f.spanTags ?? {}) as Record<string, unknown>)) tags[k] = String(v);
  if (f.httpStatusCode !== undefined) tags['http.status_code'] = String(f.httpStatusCode);
  const span: ZipkinSpan = {
    traceId: hexId(f.traceId, 32, `t${seed}`),
    id: hexId(f.spanId, 16, `s${seed}`),
    kind: client ? 'CLIENT' : 'SERVER',
    name: String(f.spanName ?? 'span'),
    timestamp: start,
    duration: Math.max(0, micros(f.endTime) - start),
    localEndpoint: { serviceName: String((client ? f.sourceName : f.destinationName) ?? 'unknown') },
    remoteEndpoint: { serviceName: String((client ? f.destinationName : f.sourceName) ?? 'unknown') },
    tags,
  };
  if (typeof f.parentSpanId === 'string' && /^[0-9a-f]{16}$/i.test(f.parentSpanId)) span.parentId = f.parentSpanId.toLowerCase();
  return span;
}

export const zipkinAdapter: AdapterFactory = {
  adapter: 'zipkin',
  templates: ['tracespan'],
  build(name, params, ctx) {
    const url = String(params.url ?? '');
    if (!/^https?:\/\//.test(url)) throw new HandlerConfigError(`url: expected the collector's http(s) URL, got ${JSON.stringify(params.url)}`);
    const p = params.sampleProbability === undefined ? 1 : Number(params.sampleProbability);
    if (!(p >= 0 && p <= 1)) throw new HandlerConfigError('sampleProbability: expected 0 to 1');
    const stats = { sent: 0, failed: 0 };
    return {
      name, adapter: 'zipkin',
      report(instances) {
        const spans = instances.filter(() => Math.random() < p).map(tracespanToZipkin);
        if (spans.length === 0) return;
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spans), signal: AbortSignal.timeout(5000) })
          .then(async (res) => { await res.arrayBuffer(); if (!res.ok) throw new Error(`collector answered ${res.status}`); stats.sent += spans.length; })
          .catch((err: unknown) => { stats.failed += spans.length; ctx.log.debug({ err: (err as Error).message, handler: name }, 'zipkin handler could not export'); });
      },
      describe: () => ({ url, sampleProbability: p, ...stats }),
    };
  },
};
