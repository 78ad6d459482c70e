import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isConfigFile } from '../../../galley/src/watch.js';

test('only .yaml/.yml files are config; dotfiles, dot folders and editor temp files are not', () => {
  for (const f of ['reviews.yaml', 'a/b/ratings.yml', 'UPPER.YAML']) assert.equal(isConfigFile(f), true, f);
  for (const f of ['.reviews.yaml.swp', '.hidden.yaml', '.git/config.yaml', 'reviews.yaml~', 'reviews.yaml.tmp',
    '#reviews.yaml#', '.#reviews.yaml', '4913', 'notes.txt', 'a/.cache/x.yaml']) {
    assert.equal(isConfigFile(f), false, f);
  }
});
