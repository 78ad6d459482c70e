// Every galley tunable, declared once (the README's settings table is this list).

import { commonSettings, declareSettings, ports, setting } from '#api';

export const galleySettings = declareSettings('galley', {
  ...commonSettings,
  configDir: setting.str('MESH_CONFIG_DIR', 'compose/config', 'folder of Istio YAML that galley watches (relative to the working directory)'),
  port: setting.int('MESH_GALLEY_PORT', ports.galley, 'HTTP API port (status, snapshot, validate)', 0, 65535),
  bind: setting.str('MESH_GALLEY_BIND', '127.0.0.1', 'HTTP API bind address (compose: 0.0.0.0)'),
  stateDir: setting.str('MESH_GALLEY_STATE_DIR', '.state/galley', 'where the last good version of every file is persisted, so a restarted galley serves the same snapshot'),
  debounceMs: setting.int('MESH_GALLEY_DEBOUNCE_MS', 50, 'quiet time after a file event before the folder is re-read', 0, 60_000),
  pollMs: setting.int('MESH_GALLEY_POLL_MS', 0, '0: file system events; >0: poll the folder every N ms (bind mounts without events)', 0, 600_000),
  maxFileBytes: setting.int('MESH_GALLEY_MAX_FILE_BYTES', 1024 * 1024, 'files larger than this are refused unread', 1024, 64 * 1024 * 1024),
});

export type GalleySettings = ReturnType<typeof galleySettings.load>;
