// `meshctl dashboard [console|prometheus]`: istioctl's habit of opening a UI. Checks the UI
// answers first (a clear message when it does not), prints its URL, and opens a browser when
// there is a desktop to open it on.

import { spawn } from 'node:child_process';
import { MeshUnreachable } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { render, type OutputFormat } from '../output.js';

export type DashboardName = 'console' | 'prometheus';

export interface DashboardInfo {
  name: DashboardName;
  url: string;
}

export function parseDashboard(raw: string | undefined): DashboardName {
  const d = (raw ?? 'console').toLowerCase();
  if (d === 'console' || d === 'prometheus') return d;
  throw new Error(`unknown dashboard ${JSON.stringify(raw)}: use console or prometheus`);
}

export function dashboardUrl(ep: Endpoints, name: DashboardName): DashboardInfo {
  return name === 'console' ? { name, url: `${ep.console.replace(/\/+$/, '')}/` } : { name, url: `${ep.prometheus.replace(/\/+$/, '')}/graph` };
}

/** Throws MeshUnreachable (exit 2, clear message) when nothing answers at the URL. */
export async function checkDashboard(info: DashboardInfo): Promise<void> {
  const probe = info.name === 'console' ? info.url.replace(/\/$/, '/ready') : info.url.replace(/\/graph$/, '/-/ready');
  try {
    await fetch(probe, { signal: AbortSignal.timeout(3000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    const hint = info.name === 'prometheus' ? ' (Prometheus is an optional compose profile: docker compose --profile prometheus up)' : '';
    throw new MeshUnreachable(info.name, info.url, `${cause}${hint}`);
  }
}

export function formatDashboard(info: DashboardInfo, format: OutputFormat): string {
  return render(format, info, () => `${info.name}: ${info.url}\n`, () => `${info.url}\n`);
}

/** Best effort: xdg-open/open, only when a desktop session is there. Never fails the command. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : env.DISPLAY || env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
  if (!opener) return false;
  try {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => { /* no opener installed: the URL is printed anyway */ });
    child.unref();
    return true;
  } catch {
    return false;
  }
}
