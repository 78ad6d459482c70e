// compose's `nats-init` step (runs once per `up`, before nats): writes nats.conf with one user per
// control component and per workload, and each user's credentials (files `user` and `pass`,
// 0400) into its own folder, which compose mounts from a volume of its own into that service
// alone. Passwords are random, generated on the first `up` and kept on the volumes afterwards,
// so restarting one service never invalidates the others' credentials.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createLogger, declareSettings, setting } from '#api';
import { composeUsers, parseWorkloadList, randomNatsPassword, renderNatsConfig } from './nats-auth.js';

const settings = declareSettings('nats-init', {
  conf: setting.str('MESH_NATS_INIT_CONF', '/etc/nats-auth/nats.conf', 'where nats-init writes the nats-server configuration'),
  credsDir: setting.str('MESH_NATS_INIT_CREDS_DIR', '/var/run/mesh/nats-creds', "folder with one sub-folder (a volume) per NATS user"),
  workloads: setting.str('MESH_NATS_WORKLOADS', '', 'namespace/serviceAccount/workload, comma-separated: one NATS user each'),
  proxyUid: setting.int('MESH_NATS_PROXY_UID', 1337, "owner of a workload's credential files (the sidecar's uid)", 0, 65_535),
  logLevel: setting.oneOf('MESH_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, 'log level'),
});

function writeAtomic(file: string, text: string, mode: number, uid?: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  if (uid !== undefined) chownSync(tmp, uid, uid);
  renameSync(tmp, file);
}

function main(): void {
  const s = settings.load();
  const log = createLogger('nats-init', s.logLevel);
  const workloads = parseWorkloadList(s.workloads);
  const kept: string[] = [];
  const users = composeUsers(workloads, (user) => {
    const file = join(s.credsDir, user, 'pass');
    const have = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (have) kept.push(user);
    return have || randomNatsPassword();
  });
  for (const u of users) {
    const dir = join(s.credsDir, u.user);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A workload's files belong to its sidecar's uid (the proxy drops root); control's to root.
    const uid = u.user.startsWith('wl-') ? s.proxyUid : 0;
    chownSync(dir, uid, uid);
    chmodSync(dir, 0o500);
    writeAtomic(join(dir, 'user'), `${u.user}\n`, 0o400, uid);
    writeAtomic(join(dir, 'pass'), `${u.password}\n`, 0o400, uid);
  }
  mkdirSync(dirname(s.conf), { recursive: true });
  writeAtomic(s.conf, renderNatsConfig(users), 0o600);
  log.info({ users: users.map((u) => u.user), keptPasswords: kept.length, conf: s.conf }, 'nats users written');
}

try {
  main();
} catch (err) {
  console.error(`nats-init: ${(err as Error).message}`);
  process.exit(1);
}
