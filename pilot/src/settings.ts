// Every tunable pilot reads, declared once with its default and a line of help.
import { commonSettings, declareSettings, setting, SettingsError, type SettingSpec } from '#api';

export type RegistryKind = 'announce' | 'docker';
const registryKinds: readonly RegistryKind[] = ['announce', 'docker'];

function registryList(env: string, def: RegistryKind[], help: string): SettingSpec<RegistryKind[]> {
  return {
    env, default: def, help: `${help} (comma list of ${registryKinds.join(', ')})`,
    parse: (raw) => {
      const out: RegistryKind[] = [];
      for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(registryKinds as readonly string[]).includes(part)) throw new SettingsError(env, raw, `unknown registry "${part}"`);
        if (!out.includes(part as RegistryKind)) out.push(part as RegistryKind);
      }
      if (out.length === 0) throw new SettingsError(env, raw, 'expected at least one registry');
      return out;
    },
  };
}

export const pilotSettings = declareSettings('pilot', {
  ...commonSettings,
  port: setting.int('MESH_PILOT_PORT', 15014, 'pilot HTTP API port (registry, proxy status, config dump)', 0, 65535),
  bind: setting.str('MESH_PILOT_BIND', '127.0.0.1', 'address the pilot HTTP API binds'),
  registries: registryList('MESH_REGISTRIES', ['announce'], 'service registries pilot reads'),
  dockerSocket: setting.str('MESH_DOCKER_SOCKET', '/var/run/docker.sock', 'Docker engine socket (docker registry)'),
  dockerNetwork: setting.str('MESH_DOCKER_NETWORK', '', 'Docker network whose container IP is the endpoint address (empty: the first network)'),
  dockerRegistryMode: setting.oneOf('MESH_REGISTRY', 'docker', ['docker', 'swarm', 'auto'] as const, 'how the docker registry reads the engine: docker = containers of this engine (compose), swarm = tasks of every node through a Swarm manager, auto = swarm when the engine is a Swarm manager running mesh-labelled services'),
  swarmPollMs: setting.int('MESH_SWARM_POLL_MS', 2000, 'swarm registry: resync period (tasks on other nodes send no events to this one)', 0),
  pushDebounceMs: setting.int('MESH_PUSH_DEBOUNCE_MS', 100, 'quiet time after a change before pilot pushes config', 0),
  pushDebounceMaxMs: setting.int('MESH_PUSH_DEBOUNCE_MAX_MS', 10_000, 'longest a push waits while changes keep coming', 0),
  outboundTrafficPolicy: setting.oneOf('MESH_OUTBOUND_TRAFFIC_POLICY', 'ALLOW_ANY', ['ALLOW_ANY', 'REGISTRY_ONLY'] as const, 'mesh-wide outbound traffic policy for hosts outside the registry (meshConfig.outboundTrafficPolicy); a Sidecar resource overrides it'),
  proxyExpiryMs: setting.int('MESH_PROXY_EXPIRY_MS', 15_000, 'announced proxies that stop heartbeating for this long are removed', 1),
});

export type PilotSettings = ReturnType<typeof pilotSettings.load>;
