// Who this proxy fronts, derived once from settings: labels, services, ports, proxy id.
// Pure parsing with errors that name the variable, so a bad env fails at start, clearly.

import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { fqdn, protocolFromPortName, proxyId as makeProxyId, spiffeId, SettingsError, type PeerInfo, type ProxyKind, type WorkloadPort } from '#api';
import type { SidecarSettings } from './settings.js';

export interface WorkloadSpec {
  kind: ProxyKind;
  proxyId: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** Short names as configured (`reviews`). */
  services: string[];
  ports: WorkloadPort[];
  /** Gateway server port -> port actually bound. */
  gatewayPortMap: Map<number, number>;
  /** The SPIFFE id citadel will issue for this workload. */
  spiffeId: string;
  /** Telemetry's view of this workload (principal filled from the identity). */
  peer: PeerInfo;
}

export function parseLabels(raw: string, env = 'MESH_LABELS'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SettingsError(env, raw, `"${part}" is not key=value`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export function parseAppPorts(raw: string, env = 'MESH_APP_PORTS'): WorkloadPort[] {
  const out: WorkloadPort[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, portRaw, targetRaw] = part.split(':');
    const port = Number(portRaw);
    const targetPort = targetRaw === undefined || targetRaw === '' ? port : Number(targetRaw);
    if (!name || !isPort(port) || !isPort(targetPort)) {
      throw new SettingsError(env, raw, `"${part}" is not name:servicePort[:targetPort]`);
    }
    out.push({ name, port, targetPort, protocol: protocolFromPortName(name, 'HTTP') });
  }
  return out;
}

export function parsePortMap(raw: string, env = 'MESH_GATEWAY_PORT_MAP'): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [from, to] = part.split('=').map(Number);
    if (!isPort(from) || to === undefined || !Number.isInteger(to) || to < 0 || to > 65535) {
      throw new SettingsError(env, raw, `"${part}" is not serverPort=boundPort`);
    }
    out.set(from!, to);
  }
  return out;
}

function isPort(n: number | undefined): n is number {
  return n !== undefined && Number.isInteger(n) && n > 0 && n <= 65535;
}

/** First non-internal IPv4 address, else loopback: what peers can reach. */
export function defaultAdvertiseAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function workloadFromSettings(s: SidecarSettings): WorkloadSpec {
  const name = s.workload || (s.kind === 'gateway' ? 'istio-ingressgateway' : '');
  if (!name) throw new SettingsError('MESH_WORKLOAD', '', 'required (the workload name, e.g. reviews-v1)');
  const labels = parseLabels(s.labels);
  const id = s.proxyId || makeProxyId(`${name}-${randomBytes(4).toString('hex').slice(0, 5)}`, s.namespace);
  const identity = spiffeId(s.namespace, s.serviceAccount);
  return {
    kind: s.kind,
    proxyId: id,
    name,
    namespace: s.namespace,
    serviceAccount: s.serviceAccount,
    labels,
    services: s.services.split(',').map((x) => x.trim()).filter(Boolean),
    ports: parseAppPorts(s.appPorts),
    gatewayPortMap: parsePortMap(s.gatewayPortMap),
    spiffeId: identity,
    peer: { workload: name, namespace: s.namespace, app: labels.app ?? name, version: labels.version ?? 'unknown', principal: identity },
  };
}

/** The service (FQDN) a request to this workload's port addresses, for destination telemetry. */
export function serviceForPort(w: WorkloadSpec, hostHint: string | undefined): string {
  if (w.services.length === 0) return 'unknown';
  if (hostHint && w.services.length > 1) {
    const h = hostHint.split(':')[0]!.toLowerCase();
    for (const svc of w.services) {
      const f = fqdn(svc, w.namespace);
      if (h === svc || h === f || f.startsWith(`${h}.`)) return f;
    }
  }
  return fqdn(w.services[0]!, w.namespace);
}
