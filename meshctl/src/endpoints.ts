// Where the mesh's APIs are. Defaults follow the well-known host ports; MESH_PORT_OFFSET
// (process mode) shifts them, and each can be named outright.

import { ports } from '#api';

export interface Endpoints {
  galley: string;
  pilot: string;
  citadel: string;
  mixer: string;
  mixerMetrics: string;
}

export function defaultEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const off = Number(env.MESH_PORT_OFFSET ?? 0) || 0;
  const host = env.MESH_HOST ?? '127.0.0.1';
  const at = (port: number) => `http://${host}:${port + off}`;
  return {
    galley: env.MESH_GALLEY_URL ?? at(ports.galley),
    pilot: env.MESH_PILOT_URL ?? at(ports.pilot),
    citadel: env.MESH_CITADEL_URL ?? at(ports.citadel),
    mixer: env.MESH_MIXER_URL ?? at(ports.mixer),
    mixerMetrics: env.MESH_MIXER_METRICS_URL ?? at(ports.mixerMetrics),
  };
}
