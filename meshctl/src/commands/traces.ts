// `meshctl traces [id]`: the traces mixer assembled from reports (newest first), or one trace
// (by trace id or x-request-id) as an indented span tree, Zipkin-style.

import { getJson } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';

export interface TraceSpan {
  id: string;
  parentId?: string;
  kind: 'CLIENT' | 'SERVER';
  name: string;
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string };
  remoteEndpoint?: { serviceName: string };
  tags: Record<string, string>;
}
export interface Trace { traceId: string; requestId: string; path: string; startedAt: string; durationMs: number; spans: TraceSpan[] }

export async function fetchTraces(ep: Endpoints, id?: string, limit = 20): Promise<Trace[]> {
  const url = id ? `${ep.mixer}/debug/traces/${encodeURIComponent(id)}` : `${ep.mixer}/debug/traces?limit=${limit}`;
  const { status, body } = await getJson<Trace & { traces?: Trace[]; message?: string }>('mixer', url);
  if (status !== 200) throw new Error(`mixer: ${body.message ?? `answered ${status}`}`);
  return id ? [body] : body.traces ?? [];
}

const ms = (us: number) => `${(us / 1000).toFixed(1)}ms`;

/** One trace as a tree: children under their parent, in start order. */
export function spanTree(t: Trace): string {
  const children = new Map<string | undefined, TraceSpan[]>();
  const ids = new Set(t.spans.map((s) => s.id));
  for (const s of t.spans) {
    const parent = s.parentId && ids.has(s.parentId) ? s.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const start = Math.min(...t.spans.map((s) => s.timestamp));
  const out: string[] = [`trace ${t.traceId}  x-request-id ${t.requestId}  ${t.durationMs}ms  ${t.path}`];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const who = s.kind === 'CLIENT' ? `${s.localEndpoint.serviceName} -> ${s.remoteEndpoint?.serviceName ?? '?'}` : `${s.localEndpoint.serviceName} (server)`;
      out.push(`${'  '.repeat(depth + 1)}+${ms(s.timestamp - start)} ${ms(s.duration)}  ${who}  ${s.tags['http.method'] ?? ''} ${s.tags['http.url'] ?? ''} ${s.tags['http.status_code'] ?? ''}${s.tags.response_flags && s.tags.response_flags !== '-' ? ` ${s.tags.response_flags}` : ''}`.trimEnd());
      walk(s.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines(out);
}

export function formatTraces(traces: Trace[], format: OutputFormat, one: boolean): string {
  return render(format, one ? traces[0] : traces,
    () => (one ? spanTree(traces[0]!) : table(['TRACE', 'REQUEST ID', 'STARTED', 'DURATION', 'SPANS', 'PATH'],
      traces.map((t) => [t.traceId.slice(0, 16), t.requestId, t.startedAt, `${t.durationMs}ms`, String(t.spans.length), t.path]))),
    () => lines(traces.map((t) => `${t.traceId} ${t.durationMs}ms ${t.path}`)));
}
