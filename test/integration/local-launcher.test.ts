// `npm start` as a user runs it: the launcher brings the control plane up, and Ctrl-C
// (SIGINT) stops every process it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../support/wait.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function childrenOf(pid: number): Promise<number[]> {
  return new Promise((res) => {
    const ps = spawn('ps', ['-o', 'pid=', '--ppid', String(pid)]);
    let out = '';
    ps.stdout.on('data', (d) => { out += d; });
    ps.on('close', () => res(out.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)));
  });
}

test('the launcher starts the control plane and SIGINT stops every process it started', async () => {
  const work = mkdtempSync(join(tmpdir(), 'mesh-launcher-'));
  cpSync(join(root, 'compose/config'), join(work, 'config'), { recursive: true });
  const portBase = 62_000;
  const launcher = spawn(process.execPath, [join(root, 'dist/local/src/main.js')], {
    cwd: root,
    env: { ...process.env, MESH_PORT_BASE: String(portBase), MESH_DEMO: 'false', MESH_STATE_DIR: join(work, 'state'), MESH_CONFIG_DIR: join(work, 'config'), MESH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  launcher.stdout.on('data', (d) => { stdout += d; });
  launcher.stderr.on('data', (d) => { stdout += d; });
  try {
    await waitFor(() => stdout.includes('compose-mesh is up'), { timeoutMs: 30_000, what: `the launcher to report the mesh up; output so far: ${stdout}` });
    const res = await fetch(`http://127.0.0.1:${portBase + 3}/ready`);
    assert.equal(res.status, 200);
    const children = await childrenOf(launcher.pid!);
    assert.equal(children.length, 6, 'nats, citadel, galley, pilot, mixer, console');
    const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
    launcher.kill('SIGINT');
    assert.equal(await exited, 0);
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} still running after SIGINT`);
  } finally {
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
});
