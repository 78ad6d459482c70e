// The service graph, Kiali's "versioned app graph" in small: workloads call services, services
// send to the workloads behind them. Built from pilot's registry and proxy list (the topology,
// even before any traffic) and mixer's live edge stats (rate, errors, latency, mTLS). Pure:
// tests build it from fixtures; the layout (columns by call depth) is computed here too.

import type { EdgeStat, EdgesBody, RegistryzBody, SyncRow } from './inputs.js';

export type Health = 'healthy' | 'degraded' | 'failing' | 'idle';

export interface GraphNode {
  id: string;
  kind: 'workload' | 'service' | 'gateway' | 'unknown';
  name: string;
  namespace: string;
  app?: string;
  version?: string;
  health: Health;
  /** Requests per second arriving at this node (traffic edges only). */
  rps: number;
  errorRate: number;
  proxies: { total: number; synced: number; nacked: number; stale: number };
  /** Why the node is not healthy, for its tooltip. */
  reasons: string[];
  column: number;
  row: number;
  x: number;
  y: number;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  /** Traffic seen in the window; false: membership only (service -> the workloads behind it). */
  traffic: boolean;
  rps: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Every request in the window went over mutual TLS. */
  mtls: boolean;
  protocol: string;
  health: Health;
  codes: Record<string, number>;
}

export interface GraphView {
  generatedAt: string;
  windowSeconds: number | null;
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
  /** What could not be read (an unreachable mixer still leaves the topology). */
  missing: string[];
}

/** Kiali's default thresholds: 0.1 % errors is degraded, 20 % is failing. */
export function healthOf(errorRate: number, rps: number): Health {
  if (rps <= 0) return 'idle';
  if (errorRate >= 0.2) return 'failing';
  if (errorRate >= 0.001) return 'degraded';
  return 'healthy';
}

const worse = (a: Health, b: Health): Health => {
  const rank: Record<Health, number> = { idle: 0, healthy: 1, degraded: 2, failing: 3 };
  return rank[b] > rank[a] ? b : a;
};

export const workloadId = (ns: string, workload: string) => `wl:${ns}/${workload}`;
export const serviceId = (hostname: string) => `svc:${hostname}`;

const COLUMN_WIDTH = 205;
const ROW_HEIGHT = 92;
const MARGIN = 64;
/** Room for the longest node label (istio-ingressgateway) at the left and right edges. */
const MARGIN_X = 100;

export function buildGraph(input: { registry?: RegistryzBody; proxies?: SyncRow[]; edges?: EdgesBody; now?: Date }): GraphView {
  const nodes = new Map<string, GraphNode>();
  const missing: string[] = [];
  if (!input.registry) missing.push('registry (pilot)');
  if (!input.proxies) missing.push('proxies (pilot)');
  if (!input.edges) missing.push('traffic (mixer)');

  const node = (id: string, init: Omit<GraphNode, 'id' | 'health' | 'rps' | 'errorRate' | 'proxies' | 'reasons' | 'column' | 'row' | 'x' | 'y'>): GraphNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, ...init, health: 'idle', rps: 0, errorRate: 0, proxies: { total: 0, synced: 0, nacked: 0, stale: 0 }, reasons: [], column: 0, row: 0, x: 0, y: 0 };
      nodes.set(id, n);
    }
    return n;
  };
  const workloadNode = (ns: string, workload: string, labels: Record<string, string> = {}, kind: 'workload' | 'gateway' = 'workload') =>
    node(workloadId(ns, workload), { kind: labels.istio === 'ingressgateway' ? 'gateway' : kind, name: workload, namespace: ns, app: labels.app, version: labels.version });
  const serviceNode = (hostname: string, name?: string, ns?: string) =>
    node(serviceId(hostname), { kind: 'service', name: name ?? hostname.split('.')[0]!, namespace: ns ?? hostname.split('.')[1] ?? 'default' });

  // Topology: services and the workloads behind them, and every proxy's workload.
  const membership = new Map<string, { from: string; to: string }>();
  for (const s of input.registry?.services ?? []) serviceNode(s.hostname, s.name, s.namespace);
  for (const i of input.registry?.instances ?? []) {
    const w = workloadNode(i.namespace, i.workload, i.labels);
    const s = serviceNode(i.service);
    membership.set(`${s.id}>${w.id}`, { from: s.id, to: w.id });
  }
  for (const p of input.proxies ?? []) {
    const ns = p.namespace ?? 'default';
    const w = workloadNode(ns, p.workload, p.labels ?? {}, p.kind === 'gateway' ? 'gateway' : 'workload');
    w.proxies.total++;
    if (p.status === 'SYNCED') w.proxies.synced++;
    else if (p.status === 'NACKED') { w.proxies.nacked++; w.reasons.push(`proxy ${p.proxy} NACKED its config${p.error ? `: ${p.error}` : ''}`); }
    else if (p.status === 'STALE') { w.proxies.stale++; w.reasons.push(`proxy ${p.proxy} is STALE`); }
    else w.reasons.push(`proxy ${p.proxy} is ${p.status}`);
  }

  // Traffic: caller -> service, service -> the workload that answered.
  const traffic = new Map<string, { from: string; to: string; stats: EdgeStat[] }>();
  const addTraffic = (from: string, to: string, e: EdgeStat) => {
    const key = `${from}>${to}`;
    let t = traffic.get(key);
    if (!t) traffic.set(key, (t = { from, to, stats: [] }));
    t.stats.push(e);
  };
  for (const e of input.edges?.edges ?? []) {
    const src = e.source.workload === 'unknown'
      ? node('unknown', { kind: 'unknown', name: 'unknown', namespace: '' })
      : workloadNode(e.source.namespace, e.source.workload, { app: e.source.app, version: e.source.version });
    const hasService = e.destination.service !== 'unknown';
    const hasWorkload = e.destination.workload !== 'unknown';
    const dstWorkload = hasWorkload ? workloadNode(e.destination.namespace, e.destination.workload, { app: e.destination.app, version: e.destination.version }) : undefined;
    if (hasService) {
      const svc = serviceNode(e.destination.service, e.destination.serviceName !== 'unknown' ? e.destination.serviceName : undefined);
      addTraffic(src.id, svc.id, e);
      if (dstWorkload) addTraffic(svc.id, dstWorkload.id, e);
    } else if (dstWorkload) {
      addTraffic(src.id, dstWorkload.id, e);
    }
  }

  const edges: GraphEdge[] = [];
  for (const t of traffic.values()) {
    const rps = t.stats.reduce((n, s) => n + s.rps, 0);
    const requests = t.stats.reduce((n, s) => n + s.windowRequests, 0);
    const errors = t.stats.reduce((n, s) => n + s.errorRate * s.windowRequests, 0);
    const mtlsShare = requests ? t.stats.reduce((n, s) => n + s.mtls * s.windowRequests, 0) / requests : 0;
    const errorRate = requests ? errors / requests : 0;
    // Exact for one underlying edge; for an aggregate, p50 is request-weighted and p99 the worst.
    const p50s = t.stats.filter((s) => s.p50Ms !== null);
    const p50Ms = p50s.length ? round(p50s.reduce((n, s) => n + s.p50Ms! * s.windowRequests, 0) / Math.max(1, p50s.reduce((n, s) => n + s.windowRequests, 0))) : null;
    const p99s = t.stats.map((s) => s.p99Ms).filter((v): v is number => v !== null);
    const codes: Record<string, number> = {};
    for (const s of t.stats) for (const [c, n] of Object.entries(s.codes ?? {})) codes[c] = (codes[c] ?? 0) + n;
    edges.push({
      id: `${t.from}>${t.to}`, from: t.from, to: t.to, traffic: true,
      rps: round(rps), errorRate: round(errorRate, 4), p50Ms, p99Ms: p99s.length ? Math.max(...p99s) : null,
      mtls: requests > 0 && mtlsShare >= 0.999, protocol: t.stats[0]!.protocol, health: healthOf(errorRate, rps), codes,
    });
  }
  for (const m of membership.values()) {
    if (traffic.has(`${m.from}>${m.to}`)) continue;
    edges.push({ id: `${m.from}>${m.to}`, from: m.from, to: m.to, traffic: false, rps: 0, errorRate: 0, p50Ms: null, p99Ms: null, mtls: false, protocol: 'http', health: 'idle', codes: {} });
  }
  edges.sort((a, b) => a.id.localeCompare(b.id));

  // Node health: the traffic arriving at it, and its proxies' sync state.
  for (const e of edges) {
    if (!e.traffic) continue;
    const n = nodes.get(e.to)!;
    const before = n.rps;
    n.rps = round(before + e.rps);
    n.errorRate = n.rps > 0 ? round((n.errorRate * before + e.errorRate * e.rps) / n.rps, 4) : 0;
  }
  for (const n of nodes.values()) {
    n.health = healthOf(n.errorRate, n.rps);
    if (n.health === 'idle' && (n.proxies.synced > 0 || n.kind === 'service')) n.health = 'healthy';
    if (n.errorRate >= 0.001) n.reasons.unshift(`${(n.errorRate * 100).toFixed(1)} % of requests failed`);
    if (n.proxies.nacked > 0 || n.proxies.stale > 0) n.health = worse(n.health, 'degraded');
  }

  const { width, height } = layout([...nodes.values()], edges);
  const sorted = [...nodes.values()].sort((a, b) => a.column - b.column || a.row - b.row);
  return {
    generatedAt: (input.now ?? new Date()).toISOString(),
    windowSeconds: input.edges?.windowSeconds ?? null,
    nodes: sorted, edges, width, height, missing,
  };
}

/**
 * Left to right by call depth (longest path from a node nobody calls; cycles cut), then each
 * column ordered by the mean row of its callers so edges cross as little as cheaply possible.
 */
export function layout(nodes: GraphNode[], edges: GraphEdge[]): { width: number; height: number } {
  const incoming = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    (incoming.get(e.to) ?? incoming.set(e.to, []).get(e.to)!).push(e.from);
  }
  const depth = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  // Bellman-Ford style relaxation, bounded by the node count so a cycle cannot loop forever.
  for (let pass = 0; pass < nodes.length; pass++) {
    let changed = false;
    for (const e of edges) {
      if (e.from === e.to) continue;
      const d = (depth.get(e.from) ?? 0) + 1;
      if (d > (depth.get(e.to) ?? 0) && d <= nodes.length) { depth.set(e.to, d); changed = true; }
    }
    if (!changed) break;
  }
  const columns = new Map<number, GraphNode[]>();
  for (const n of nodes) {
    n.column = depth.get(n.id) ?? 0;
    (columns.get(n.column) ?? columns.set(n.column, []).get(n.column)!).push(n);
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let maxRows = 1;
  for (const c of [...columns.keys()].sort((a, b) => a - b)) {
    const col = columns.get(c)!;
    const key = (n: GraphNode) => {
      const callers = (incoming.get(n.id) ?? []).map((id) => byId.get(id)!).filter((p) => p.column < c);
      return callers.length ? callers.reduce((s, p) => s + p.row, 0) / callers.length : Number.MAX_SAFE_INTEGER;
    };
    col.sort((a, b) => key(a) - key(b) || (a.app ?? a.name).localeCompare(b.app ?? b.name) || a.name.localeCompare(b.name));
    col.forEach((n, i) => { n.row = i; });
    maxRows = Math.max(maxRows, col.length);
  }
  const height = MARGIN * 2 + (maxRows - 1) * ROW_HEIGHT;
  for (const col of columns.values()) {
    // Centre shorter columns vertically.
    const offset = ((maxRows - col.length) * ROW_HEIGHT) / 2;
    for (const n of col) {
      n.x = MARGIN_X + n.column * COLUMN_WIDTH;
      n.y = MARGIN + offset + n.row * ROW_HEIGHT;
    }
  }
  const width = MARGIN_X * 2 + Math.max(0, ...nodes.map((n) => n.column)) * COLUMN_WIDTH;
  return { width, height };
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
