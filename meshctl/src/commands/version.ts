// `meshctl version`: the client's version and what each control-plane component reports on
// /ready (istioctl version: client, then control plane). `--remote=false` skips the mesh.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadyReport } from '#api';
import { getJson, MeshUnreachable } from '../client.js';
import type { Endpoints } from '../endpoints.js';
import { lines, render, table, type OutputFormat } from '../output.js';

export interface ComponentVersion {
  component: string;
  url: string;
  reachable: boolean;
  ready: boolean;
  /** What the component reports: its config, snapshot or trust bundle version. */
  version?: string;
}

export interface VersionReport {
  client: { version: string; node: string };
  mesh?: ComponentVersion[];
}

/** compose-mesh's version: the root package.json, beside dist/ (and in the image). */
export function clientVersion(): string {
  const here = fileURLToPath(import.meta.url);
  for (const rel of ['../../../../../package.json', '../../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(resolve(here, rel), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'compose-mesh' && pkg.version) return pkg.version;
    } catch { /* try the next place */ }
  }
  return 'unknown';
}

export async function fetchVersion(ep: Endpoints, remote: boolean): Promise<VersionReport> {
  const report: VersionReport = { client: { version: clientVersion(), node: process.version } };
  if (!remote) return report;
  const components: [string, string][] = [['galley', ep.galley], ['pilot', ep.pilot], ['citadel', ep.citadel], ['mixer', ep.mixer], ['console', ep.console]];
  report.mesh = await Promise.all(components.map(async ([component, url]): Promise<ComponentVersion> => {
    try {
      const { status, body } = await getJson<ReadyReport>(component, `${url}/ready`);
      return { component, url, reachable: true, ready: status === 200 && body.ready !== false, ...(body.version ? { version: body.version } : {}) };
    } catch (err) {
      if (!(err instanceof MeshUnreachable)) throw err;
      return { component, url, reachable: false, ready: false };
    }
  }));
  return report;
}

export function formatVersion(r: VersionReport, format: OutputFormat): string {
  return render(format, r, () => {
    let out = `client version: ${r.client.version} (node ${r.client.node})\n`;
    if (r.mesh) {
      out += table(['COMPONENT', 'STATUS', 'VERSION', 'ADDRESS'], r.mesh.map((c) => [c.component, !c.reachable ? 'UNREACHABLE' : c.ready ? 'ready' : 'NOT READY', c.version ?? '-', c.url]));
    }
    return out;
  }, () => lines([r.client.version]));
}
