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
  const want = readFileSync(file, 'utf8');
  if (want !== actual) assert.fail(`output differs from test/golden/${rel} (REFRESH_GOLDEN=1 to accept):\n${lineDiff(want, actual)}`);
}

/** The first differing run of lines, with a little context: readable where a whole-file diff is not. */
export function lineDiff(want: string, got: string, context = 3): string {
  const a = want.split('\n');
  const b = got.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length - 1;
  let endB = b.length - 1;
  while (endA >= start && endB >= start && a[endA] === b[endB]) { endA--; endB--; }
  const out: string[] = [`@@ line ${start + 1} @@`];
  for (let i = Math.max(0, start - context); i < start; i++) out.push(`  ${a[i]}`);
  for (let i = start; i <= endA && i < start + 40; i++) out.push(`- ${a[i]}`);
  for (let i = start; i <= endB && i < start + 40; i++) out.push(`+ ${b[i]}`);
  for (let i = endA + 1; i < Math.min(a.length, endA + 1 + context); i++) out.push(`  ${a[i]}`);
  return out.join('\n');
}
