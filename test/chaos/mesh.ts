// The chaos suite's view of one whole process-mode mesh: its config folder, the admin APIs of
// its proxies, the pids of its processes, and what "every proxy is in sync" means.

import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalMesh } from '../../local/src/mesh.js';
import { waitFor } from '../support/wait.js';
import { getJson, syncz } from '../support/mesh-api.js';

export interface IdentityView {
  spiffeId: string;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  rotatesAt?: string;
  lastError?: string;
}

export class ChaosMesh {
  constructor(readonly mesh: LocalMesh, readonly configDir: string, readonly stateDir: string) {}

  get ports() { return this.mesh.plan.ports; }
  get pilot() { return `http://127.0.0.1:${this.ports.pilot}`; }
  get galley() { return `http://127.0.0.1:${this.ports.galley}`; }
  get proxyCount() { return this.mesh.plan.proxies.length; }

  proxy(workload: string) {
    const p = this.mesh.plan.proxies.find((x) => x.workload === workload);
    if (!p) throw new Error(`no proxy for ${workload}`);
    return p;
  }

  admin(workload: string): string {
    return `http://127.0.0.1:${this.proxy(workload).ports.admin}`;
  }

  /** The supervisor's name of a workload's proxy process. */
  proxyProcess(workload: string): string {
    return workload === 'istio-ingressgateway' ? workload : `${workload}-proxy`;
  }

  pid(name: string): number {
    const pid = this.mesh.supervisor.get(name)?.child.pid;
    if (!pid) throw new Error(`no running process ${name}`);
    return pid;
  }

  /** Every proxy process (sidecars and the gateway) with its pid. */
  proxyPids(): { name: string; pid: number }[] {
    return this.mesh.supervisor.list()
      .filter((r) => r.spec.group === 'proxy' || r.spec.group === 'gateway')
      .map((r) => ({ name: r.spec.name, pid: r.child.pid! }));
  }

  /** The config version each proxy serves, from its own admin API. */
  async versions(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await Promise.all(this.mesh.plan.proxies.map(async (p) => {
      const d = await getJson<{ version: string | null }>(`http://127.0.0.1:${p.ports.admin}/config_dump`);
      out.set(p.workload, d.version ?? '');
    }));
    return out;
  }

  async identity(workload: string): Promise<IdentityView> {
    return (await getJson<{ identity: IdentityView }>(`${this.admin(workload)}/config_dump`)).identity;
  }

  /**
   * Waits until pilot lists every proxy SYNCED and every proxy serves `expected` (when given);
   * returns the milliseconds it took.
   */
  async waitSynced(expected: Map<string, string> | undefined, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    await waitFor(async () => {
      const rows = await syncz(this.pilot);
      if (rows.length < this.proxyCount || !rows.every((r) => r.status === 'SYNCED')) return false;
      if (!expected) return true;
      const now = await this.versions();
      return [...expected].every(([w, v]) => now.get(w) === v);
    }, { timeoutMs, intervalMs: 20, what: 'every proxy SYNCED with its config' });
    return Date.now() - t0;
  }

  /** Writes a config file the way editors do (temp file, rename), so galley sees it whole. */
  writeConfig(name: string, text: string): void {
    const tmp = join(this.configDir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(this.configDir, name));
  }

  async galleyStatus(): Promise<{ version: string; files: { file: string; state: string; messages: { code: string; level: string; line?: number }[] }[] }> {
    return getJson(`${this.galley}/status`);
  }
}

export interface RouteWeight { subset?: string; weight: number }

/** The reviews VirtualService the suite flips: retries and a timeout on every variant. */
export function reviewsVirtualService(routes: RouteWeight[]): string {
  const lines = [
    'apiVersion: networking.istio.io/v1alpha3',
    'kind: VirtualService',
    'metadata:',
    '  name: reviews',
    'spec:',
    '  hosts:',
    '  - reviews',
    '  http:',
    '  - timeout: 8s',
    // One retry, on gateway errors only, with a per-try timeout under productpage's own 3 s:
    // more attempts or retrying every 5xx multiplies the load exactly when the mesh is slow.
    '    retries:',
    '      attempts: 2',
    '      perTryTimeout: 2s',
    '      retryOn: gateway-error,connect-failure,reset',
    '    route:',
  ];
  for (const r of routes) {
    lines.push('    - destination:', '        host: reviews');
    if (r.subset) lines.push(`        subset: ${r.subset}`);
    lines.push(`      weight: ${r.weight}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Bookinfo's DestinationRules with outlier detection on reviews: Envoy's 5 consecutive
 * failures, a short interval and ejection so the suite can eject, watch the endpoint come back
 * and eject another; at most half of the three endpoints out at once.
 */
export const DESTINATION_RULES = `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: productpage
spec:
  host: productpage
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 1s
      baseEjectionTime: 10s
      maxEjectionPercent: 50
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  subsets:
  - name: v1
    labels:
      version: v1
`;
