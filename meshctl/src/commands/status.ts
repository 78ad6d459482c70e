// `meshctl status`: is every component healthy, are the proxies in sync, and which config
// files failed validation (with file:line).

import { getJson, MeshUnreachable } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';
import { fetchProxyStatus, type SyncStatus } from './proxy-status.js';
import type { AnalysisMessage, ReadyReport } from '#api';

export type ValidationMessage = AnalysisMessage;

interface GalleyStatus {
  version?: string;
  files?: { file: string; state: string; resources?: string[]; messages?: ValidationMessage[] }[];
}

export interface ComponentHealth {
  component: string;
  url: string;
  healthy: boolean;
  detail?: string;
}

export interface MeshStatus {
  components: ComponentHealth[];
  proxies: { total: number; byStatus: Record<string, number> };
  config: { version?: string; files: number; invalid: { file: string; messages: ValidationMessage[] }[] };
}

export function formatMessage(m: ValidationMessage): string {
  const where = [m.resource, m.file ? `${m.file}${m.line ? `:${m.line}` : ''}` : undefined].filter(Boolean).join(' ');
  return `${m.level} [${m.code}]${where ? ` (${where})` : ''} ${m.message}`;
}

async function ready(component: string, url: string): Promise<ComponentHealth> {
  try {
    const { status, body } = await getJson<ReadyReport>(component, `${url}/ready`);
    return { component, url, healthy: status === 200 && body.ready !== false, detail: body.detail };
  } catch (err) {
    return { component, url, healthy: false, detail: err instanceof MeshUnreachable ? 'unreachable' : (err as Error).message };
  }
}

export async function fetchStatus(ep: Endpoints): Promise<MeshStatus> {
  const components = await Promise.all([
    ready('galley', ep.galley), ready('pilot', ep.pilot), ready('citadel', ep.citadel), ready('mixer', ep.mixer),
  ]);
  let proxies: SyncStatus[] = [];
  try { proxies = await fetchProxyStatus(ep); } catch { /* pilot down: shown above */ }
  const byStatus: Record<string, number> = {};
  for (const p of proxies) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
  let galley: GalleyStatus = {};
  try { galley = (await getJson<GalleyStatus>('galley', `${ep.galley}/status`)).body; } catch { /* galley down */ }
  const files = galley.files ?? [];
  return {
    components,
    proxies: { total: proxies.length, byStatus },
    config: {
      version: galley.version,
      files: files.length,
      invalid: files.filter((f) => f.state === 'invalid').map((f) => ({ file: f.file, messages: (f.messages ?? []).filter((m) => m.level === 'Error') })),
    },
  };
}

export function formatStatus(s: MeshStatus, format: OutputFormat): string {
  return render(format, s, () => {
    let out = table(['COMPONENT', 'STATUS', 'ADDRESS', 'DETAIL'],
      s.components.map((c) => [c.component, c.healthy ? 'healthy' : 'UNHEALTHY', c.url, c.detail ?? '']));
    const counts = Object.entries(s.proxies.byStatus).map(([k, v]) => `${v} ${k}`).join(', ');
    out += `\nproxies: ${s.proxies.total}${counts ? ` (${counts})` : ''}\n`;
    out += `config: version ${s.config.version ?? '-'}, ${s.config.files} files, ${s.config.invalid.length} invalid\n`;
    for (const f of s.config.invalid) {
      for (const m of f.messages) out += `  ${formatMessage(m)}\n`;
      if (f.messages.length === 0) out += `  ${f.file}: invalid\n`;
    }
    return out;
  }, () => {
    const counts = Object.entries(s.proxies.byStatus).map(([k, v]) => `${v} ${k}`).join(', ');
    return lines([
      ...s.components.map((c) => `${c.component} ${c.healthy ? 'healthy' : 'UNHEALTHY'}`),
      `proxies ${s.proxies.total}${counts ? ` (${counts})` : ''}`,
      `config ${s.config.version ?? '-'} ${s.config.invalid.length} invalid`,
    ]);
  });
}
