// With the mesh down, every meshctl command that needs it says so clearly (exit 2), never a
// stack trace; `version` still prints the client version and marks each component unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/wait.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const bin = join(root, 'meshctl/bin/meshctl.js');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('meshctl with nothing listening: a clear message and exit 2, no stack trace', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const env = { MESH_GALLEY_URL: dead, MESH_PILOT_URL: dead, MESH_CITADEL_URL: dead, MESH_MIXER_URL: dead, MESH_CONSOLE_URL: dead, MESH_PROMETHEUS_URL: dead };
  const results = await Promise.all([['top'], ['certs'], ['proxy-status'], ['dashboard', '--no-browser'], ['dashboard', 'prometheus'], ['top', '-o', 'json']].map(async (args) => ({ args, ...(await run(args, env)) })));
  for (const r of results) {
    assert.equal(r.code, 2, `${r.args.join(' ')} exits 2`);
    assert.match(r.stderr, /^Error: cannot reach \w+ at http:\/\/127\.0\.0\.1:\d+.*Is the mesh up\?/m, r.args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${r.args.join(' ')}: no stack trace`);
    assert.equal(r.stdout, '');
  }
  const version = await run(['version'], env);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^client version: \d+\.\d+\.\d+/);
  assert.match(version.stdout, /mixer\s+UNREACHABLE/);
  const status = await run(['status', '-o', 'short'], env);
  assert.equal(status.code, 2, 'status reports unhealthy components with exit 2');
  assert.match(status.stdout, /^galley UNHEALTHY$/m);
});
