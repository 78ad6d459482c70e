// `meshctl proxy-status`: istioctl's SYNCED / NOT SENT / STALE / NACKED per proxy, from pilot's syncz.

import type { ProxySyncRow } from '#api';
import { getJson } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';

/** One row of pilot's /debug/syncz. */
export type SyncStatus = ProxySyncRow;

export async function fetchProxyStatus(ep: Endpoints): Promise<SyncStatus[]> {
  const { body } = await getJson<SyncStatus[] | { proxies: SyncStatus[] }>('pilot', `${ep.pilot}/debug/syncz`);
  const list = Array.isArray(body) ? body : body.proxies;
  return [...list].sort((a, b) => a.proxy.localeCompare(b.proxy));
}

export function formatProxyStatus(list: SyncStatus[], format: OutputFormat, proxy?: string): string {
  const rows = proxy ? list.filter((p) => p.proxy === proxy || p.proxy.startsWith(`${proxy}`) || p.workload === proxy) : list;
  return render(format, rows, () => table(
    ['NAME', 'WORKLOAD', 'STATUS', 'VERSION', 'INBOUND', 'ERROR'],
    rows.map((p) => [p.proxy, p.workload, p.status, p.version ?? '-', p.inbound ?? '-', p.error ?? '']),
  ), () => lines(rows.map((p) => `${p.proxy} ${p.status}`)));
}
