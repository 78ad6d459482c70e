import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { declarations, withSettingsTable } from '../../tools/settings-doc.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');

test('the README settings table is the list of declared settings (npm run docs:settings)', () => {
  const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
  assert.equal(readme, withSettingsTable(readme), 'README.md settings table is stale: run npm run docs:settings');
});

test('every setting has help text and one meaning per variable', () => {
  const byEnv = new Map<string, string>();
  for (const d of declarations) {
    for (const spec of Object.values(d.specs)) {
      assert.ok(spec.help.length > 5, `${spec.env} has help`);
      const prev = byEnv.get(spec.env);
      if (prev !== undefined) assert.equal(JSON.stringify(spec.default), prev, `${spec.env} has one default everywhere`);
      byEnv.set(spec.env, JSON.stringify(spec.default));
    }
  }
});
