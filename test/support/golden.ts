// Golden files (istio pilot/test/util/diff.go): compare output to a checked-in file;
// REFRESH_GOLDEN=1 rewrites the file, to be reviewed as a diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');

/** `rel` is relative to test/golden/. */
export function assertGolden(rel: string, actual: string): void {
  const file = resolve(root, 'test/golden', rel);
  if (process.env.REFRESH_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    if (process.env.REFRESH_GOLDEN !== '1') assert.fail(`golden file ${rel} did not exist; written now: review it and run again`);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from test/golden/${rel} (REFRESH_GOLDEN=1 to accept)`);
}
