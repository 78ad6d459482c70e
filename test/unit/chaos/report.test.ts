// The reliability table renders every row under its area, escapes pipes, and marks failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReliability } from '../../chaos/report.js';

test('renderReliability groups rows by area and counts what holds', () => {
  const md = renderReliability([
    { area: 'Load', scenario: 'steady', done: 'a | b', observed: '0 failed', expected: 'zero', pass: true },
    { area: 'Faults', scenario: 'kill pilot', done: 'SIGKILL', observed: '3 failed\nlater', expected: 'zero', pass: false, seeAlso: 'x.test.ts' },
    { area: 'Load', scenario: 'flip', done: 'VS', observed: 'ok', expected: 'zero', pass: true },
  ], { variant: 'short', date: '2026-01-01T00:00:00Z', durationS: 12, machine: '2 cores', command: 'npm run test:chaos -- --short' });
  assert.match(md, /2 of 3 scenarios hold/);
  assert.match(md, /short variant/);
  const load = md.indexOf('## Load');
  const faults = md.indexOf('## Faults');
  assert.ok(load > 0 && faults > load, 'areas in first-seen order');
  assert.ok(md.indexOf('| flip |') < faults, 'rows stay under their area');
  assert.match(md, /\| steady \| a \\\| b \| 0 failed \| zero \| pass \|/);
  assert.match(md, /\| kill pilot \(also: x\.test\.ts\) \| SIGKILL \| 3 failed later \| zero \| \*\*FAIL\*\* \|/);
});
