// Every console tunable, declared once (the README's settings table is this list).
// The console reads the other components' HTTP APIs only; it never talks on the bus.

import { commonSettings, declareSettings, ports, setting } from '#api';

const local = (port: number) => `http://127.0.0.1:${port}`;

export const consoleSettings = declareSettings('console', {
  ...commonSettings,
  port: setting.int('MESH_CONSOLE_PORT', ports.console, 'web console port', 0, 65535),
  bind: setting.str('MESH_CONSOLE_BIND', '127.0.0.1', 'address the console binds (compose sets 0.0.0.0)'),
  galleyUrl: setting.str('MESH_GALLEY_URL', local(ports.galley), 'galley API the console reads (config status)'),
  pilotUrl: setting.str('MESH_PILOT_URL', local(ports.pilot), 'pilot API the console reads (registry, proxy sync, proxy config)'),
  citadelUrl: setting.str('MESH_CITADEL_URL', local(ports.citadel), 'citadel API the console reads (issued certificates)'),
  mixerUrl: setting.str('MESH_MIXER_URL', local(ports.mixer), 'mixer API the console reads (edge stats, recent requests)'),
  prometheusUrl: setting.str('MESH_PROMETHEUS_URL', '', 'Prometheus, linked from the console when set'),
  upstreamTimeoutMs: setting.int('MESH_CONSOLE_UPSTREAM_TIMEOUT_MS', 2500, 'how long the console waits for a component before showing it unreachable', 100, 60_000),
  assetsDir: setting.str('MESH_CONSOLE_ASSETS_DIR', '', 'folder holding the web app (index.html, app.js, style.css); empty: console/web of this checkout'),
});

export type ConsoleSettings = ReturnType<typeof consoleSettings.load>;
