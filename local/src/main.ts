// `npm start`: the whole mesh with its demo as local processes. Ctrl-C stops all of it.

import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { createLogger } from '#api';
import { localSettings } from './settings.js';
import { startLocalMesh } from './mesh.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const settings = localSettings.load();
const log = createLogger('local', settings.logLevel);

try {
  const started = Date.now();
  const mesh = await startLocalMesh({ root, ...settings, log });
  const p = mesh.plan.ports;
  const lines = [
    `compose-mesh is up in process mode (${Date.now() - started} ms), ${mesh.supervisor.list().length} processes; logs in ${settings.stateDir}/logs`,
    `  ingress gateway  http://127.0.0.1:${p.gateway}/productpage`,
    `  web console      http://127.0.0.1:${p.console}/`,
    `  galley           http://127.0.0.1:${p.galley}/status`,
    `  pilot            http://127.0.0.1:${p.pilot}/debug/syncz`,
    `  citadel          http://127.0.0.1:${p.citadel}/trust-bundle.pem`,
    `  mixer metrics    http://127.0.0.1:${p.mixerMetrics}/metrics`,
    `  NATS             ${mesh.plan.natsUrl}`,
    `  config folder    ${settings.configDir} (drop Istio YAML here)`,
    `Try: npx meshctl status; npx meshctl proxy-status. Ctrl-C stops everything.`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping ${mesh.supervisor.list().length} processes\n`);
    await mesh.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
