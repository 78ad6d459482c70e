// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per
// function and per area (TLS, HTTP parser, http-proxy, the sidecar's own layers, telemetry,
// the bus, GC), as shares of the busy (non-idle) time.

import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleShare: number;
  areas: { area: string; share: number }[];
  top: { fn: string; where: string; share: number }[];
}

/** The area a frame belongs to, by its script; order matters (first match wins). */
export function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)') return 'native/program';
  if (fn === '(idle)') return 'idle';
  if (url.includes('node_modules/http-proxy')) return 'http-proxy';
  if (url.includes('node_modules/nats')) return 'nats client';
  if (url.includes('node_modules/pino') || url.includes('node_modules/sonic-boom')) return 'logging';
  if (url.includes('node_modules/fastify') || url.includes('node_modules/avvio') || url.includes('node_modules/find-my-way')) return 'admin api';
  if (url.includes('node_modules/')) return 'other deps';
  if (url.includes('/sidecar/src/telemetry') || url.includes('/sidecar/src/layers/telemetry')) return 'sidecar telemetry';
  if (url.includes('/sidecar/src/forward')) return 'sidecar forward';
  if (url.includes('/sidecar/src/')) return 'sidecar layers';
  if (url.includes('/api/src/')) return 'mesh api (match, bus)';
  if (/node:_tls|node:tls|node:internal\/tls|_tls_/.test(url)) return 'tls (js side)';
  if (/node:_http|node:http|node:internal\/http/.test(url)) return 'http (js side)';
  if (/node:net|node:internal\/stream_base|node:stream|node:internal\/streams/.test(url)) return 'net/streams';
  if (/node:events|node:internal\/process|node:internal\/timers|node:timers|node:internal\/async/.test(url)) return 'event loop/timers';
  if (url === '') return 'native (tls crypto, parser, syscalls)';
  return 'other node internals';
}

export function summariseProfile(file: string, topN = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  let idle = 0;
  let busy = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const area = areaOf(url, functionName);
    if (area === 'idle') { idle += us; continue; }
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url ? `${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '(native)';
    const key = `${functionName} ${where}`;
    const f = fns.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    fns.set(key, f);
  }
  const share = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;
  return {
    file,
    busyMs: Math.round(busy / 1000),
    idleShare: Math.round((idle / Math.max(1, idle + busy)) * 1000) / 10,
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, share: share(us) })),
    top: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((f) => ({ fn: f.fn, where: f.where, share: share(f.us) })),
  };
}
