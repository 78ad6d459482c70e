// `npm run test:chaos [-- --short]`: runs the chaos suite (test/chaos/chaos.test.ts) under
// node --test; --short is the CI variant (MESH_CHAOS_SHORT=1). Writes docs/reliability.md
// unless MESH_CHAOS_REPORT names another file.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const short = process.argv.includes('--short') || process.env.MESH_CHAOS_SHORT === '1';
const file = join(dirname(fileURLToPath(import.meta.url)), 'chaos.test.js');
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=3600000', file], {
  stdio: 'inherit',
  env: { ...process.env, MESH_CHAOS_SHORT: short ? '1' : '0' },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
