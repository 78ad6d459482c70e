// Where the mesh's APIs are. Defaults follow the well-known host ports; MESH_PORT_OFFSET
// or MESH_PORT_BASE (process mode) move them, and each can be named outright.

import { hostPorts, ports } from '#api';

export interface Endpoints {
  galley: string;
  pilot: string;
  citadel: string;
  mixer: string;
  mixerMetrics: string;
  console: string;
  prometheus: string;
}

export function defaultEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const off = Number(env.MESH_PORT_OFFSET ?? 0) || 0;
  const p = hostPorts({ offset: off, base: Number(env.MESH_PORT_BASE ?? 0) || undefined });
  const host = env.MESH_HOST ?? '127.0.0.1';
  const at = (port: number) => `http://${host}:${port}`;
  return {
    galley: env.MESH_GALLEY_URL ?? at(p.galley),
    pilot: env.MESH_PILOT_URL ?? at(p.pilot),
    citadel: env.MESH_CITADEL_URL ?? at(p.citadel),
    mixer: env.MESH_MIXER_URL ?? at(p.mixer),
    mixerMetrics: env.MESH_MIXER_METRICS_URL ?? at(p.mixerMetrics),
    console: env.MESH_CONSOLE_URL ?? at(p.console),
    prometheus: env.MESH_PROMETHEUS_URL ?? at(ports.prometheus + off),
  };
}
