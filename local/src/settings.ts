import { declareSettings, setting } from '#api';

export const localSettings = declareSettings('local', {
  portOffset: setting.int('MESH_PORT_OFFSET', 0, 'process mode: added to every host port (run a second mesh beside the first)', 0, 23000),
  portBase: setting.int('MESH_PORT_BASE', 0, 'process mode: if set, lay every host port out compactly from this port instead (0: the well-known ports plus MESH_PORT_OFFSET)', 0, 65000),
  stateDir: setting.str('MESH_STATE_DIR', '.state/local', 'process mode: logs, citadel root, galley state'),
  configDir: setting.str('MESH_CONFIG_DIR', 'compose/config', 'the watched config folder'),
  demo: setting.bool('MESH_DEMO', true, 'process mode: start the demo workloads and the ingress gateway'),
  natsBin: setting.str('MESH_NATS_BIN', 'nats-server', 'process mode: the nats-server binary'),
  logLevel: setting.oneOf('MESH_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, 'log level'),
});
