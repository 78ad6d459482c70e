// `meshctl top`: per-service request rate, error rate and p50/p99 over mixer's sliding window
// (linkerd's `viz stat` columns), from mixer's /debug/edges. `--by workload` splits a service
// by the workloads (versions) that answered; `--by edge` shows every caller -> callee pair.

import type { EdgeView, EdgesView } from '#api';
import { getJson } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';

export type EdgeStat = EdgeView;
export type EdgesBody = EdgesView;

export type TopGrouping = 'service' | 'workload' | 'edge';

export interface TopRow {
  name: string;
  /** Requests per second over the window. */
  rps: number;
  /** Share of requests that succeeded (not 5xx, a response was received). */
  successRate: number;
  errorRate: number;
  p50Ms: number | null;
  /** Exact for one edge; the worst of several edges' p99s when they are aggregated. */
  p99Ms: number | null;
  requests: number;
  mtls: boolean;
}

export interface TopReport { windowSeconds: number; by: TopGrouping; rows: TopRow[] }

export async function fetchEdges(ep: Endpoints): Promise<EdgesBody> {
  const { status, body } = await getJson<EdgesBody & { message?: string }>('mixer', `${ep.mixer}/debug/edges`);
  if (status !== 200 || !Array.isArray(body.edges)) throw new Error(`mixer has no edge stats${body.message ? `: ${body.message}` : ''} (is it older than meshctl?)`);
  return body;
}

const shortHost = (s: string) => s.replace(/\.svc\.cluster\.local$/, '');

function keyOf(e: EdgeStat, by: TopGrouping): string {
  const svc = e.destination.service === 'unknown' ? `${e.destination.workload}.${e.destination.namespace}` : shortHost(e.destination.service);
  if (by === 'service') return svc;
  if (by === 'workload') return `${svc} ${e.destination.workload}`;
  return `${e.source.workload} -> ${svc}${e.destination.workload !== 'unknown' ? ` (${e.destination.workload})` : ''}`;
}

export function buildTop(body: EdgesBody, by: TopGrouping = 'service'): TopReport {
  const groups = new Map<string, EdgeStat[]>();
  for (const e of body.edges) {
    const k = keyOf(e, by);
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(e);
  }
  const rows: TopRow[] = [...groups].map(([name, es]) => {
    const requests = es.reduce((n, e) => n + e.windowRequests, 0);
    const errors = es.reduce((n, e) => n + e.errorRate * e.windowRequests, 0);
    const weighted = es.filter((e) => e.p50Ms !== null);
    const weight = weighted.reduce((n, e) => n + e.windowRequests, 0);
    const p99s = es.map((e) => e.p99Ms).filter((v): v is number => v !== null);
    const errorRate = requests ? errors / requests : 0;
    return {
      name,
      rps: round(es.reduce((n, e) => n + e.rps, 0), 3),
      successRate: round(1 - errorRate, 4),
      errorRate: round(errorRate, 4),
      p50Ms: weighted.length && weight ? round(weighted.reduce((n, e) => n + e.p50Ms! * e.windowRequests, 0) / weight, 3) : null,
      p99Ms: p99s.length ? Math.max(...p99s) : null,
      requests,
      mtls: requests > 0 && es.every((e) => e.windowRequests === 0 || e.mtls >= 0.999),
    };
  });
  rows.sort((a, b) => b.rps - a.rps || a.name.localeCompare(b.name));
  return { windowSeconds: body.windowSeconds, by, rows };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const ms = (v: number | null) => (v === null ? '-' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)}ms`);

export function formatTop(r: TopReport, format: OutputFormat): string {
  const nameHeader = r.by === 'edge' ? 'EDGE' : r.by === 'workload' ? 'SERVICE WORKLOAD' : 'SERVICE';
  return render(format, r, () => {
    if (r.rows.length === 0) return `no traffic in the last ${r.windowSeconds}s\n`;
    return table([nameHeader, 'RPS', 'SUCCESS', 'ERRORS', 'P50', 'P99', 'MTLS'],
      r.rows.map((x) => [x.name, x.rps.toFixed(2), pct(x.successRate), pct(x.errorRate), ms(x.p50Ms), ms(x.p99Ms), x.mtls ? 'yes' : 'no'])) +
      `(over the last ${r.windowSeconds}s)\n`;
  }, () => lines(r.rows.map((x) => `${x.name} ${x.rps.toFixed(2)}rps ${pct(x.errorRate)} p99=${ms(x.p99Ms)}`)));
}

export function parseGrouping(raw: string): TopGrouping {
  if (raw === 'service' || raw === 'workload' || raw === 'edge') return raw;
  throw new Error(`--by ${JSON.stringify(raw)}: use service, workload or edge`);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
