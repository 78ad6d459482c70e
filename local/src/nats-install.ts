// nats-server is the one system package process mode needs. On Debian as root it installs
// itself from the distribution's archive (the `nats-server` package), as the README promises.

import { execFileSync, spawnSync } from 'node:child_process';
import type { Logger } from '#api';

function onPath(bin: string): boolean {
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
}

export function ensureNatsServer(bin: string, log: Logger): void {
  if (onPath(bin)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    throw new Error(`${bin} not found: install NATS (Debian/Ubuntu: apt-get install nats-server; elsewhere https://docs.nats.io) or set MESH_NATS_BIN`);
  }
  log.info('nats-server not found: installing the Debian package');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env });
  if (!onPath(bin)) throw new Error(`installed nats-server but ${bin} still does not run`);
}
