// Golden files for generated config (istio pilot/test/util/diff.go): compare JSON, refresh
// with REFRESH_GOLDEN=1, and fail with a diff a person can read.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

// Compiled tests live in dist/test/unit/pilot; goldens stay in the source tree.
const goldenDir = fileURLToPath(new URL('../../../../test/golden/pilot/', import.meta.url));

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

export function assertGolden(name: string, value: unknown): void {
  const file = `${goldenDir}${name}.json`;
  const got = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.REFRESH_GOLDEN === '1' || !existsSync(file)) {
    if (!existsSync(file) && process.env.CI) assert.fail(`golden file ${file} is missing (run with REFRESH_GOLDEN=1)`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, got);
    return;
  }
  const want = readFileSync(file, 'utf8');
  if (want !== got) {
    assert.fail(`generated config differs from ${file} (refresh with REFRESH_GOLDEN=1 if intended):\n${lineDiff(want, got)}`);
  }
}
