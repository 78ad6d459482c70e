import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonObjectSplitter } from '../../../pilot/src/registry/json-stream.js';

test('objects split across chunks and several per chunk all come out, in order', () => {
  const bad: string[] = [];
  const s = new JsonObjectSplitter((t) => bad.push(t));
  const a = JSON.stringify({ Action: 'start', id: 'a', Actor: { Attributes: { note: 'brace } in "string"' } } });
  const b = JSON.stringify({ Action: 'die', id: 'b' });
  const c = JSON.stringify({ Action: 'health_status: healthy', id: 'c', text: 'ünïcode' });
  const all = Buffer.from(`${a}\n${b}\n${c}\n`);
  const got: unknown[] = [];
  // Every byte boundary, including inside a multi-byte character.
  for (let i = 0; i < all.length; i += 7) got.push(...s.push(all.subarray(i, i + 7)));
  assert.deepEqual(got, [JSON.parse(a), JSON.parse(b), JSON.parse(c)]);
  assert.deepEqual(s.push(`${b}${a}`), [JSON.parse(b), JSON.parse(a)]);
  assert.deepEqual(bad, []);
});

test('garbage between objects is skipped and a broken object is reported, not thrown', () => {
  const bad: string[] = [];
  const s = new JsonObjectSplitter((t) => bad.push(t));
  assert.deepEqual(s.push('xx {"a":1} {"b":tru} {"c":3}'), [{ a: 1 }, { c: 3 }]);
  assert.deepEqual(bad, ['{"b":tru}']);
});
