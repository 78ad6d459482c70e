import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from '../../../galley/src/store.js';
import { dr, vs } from './fixtures.js';


function names(store: ConfigStore): string[] {
  return store.snapshot().resources.map((r) => `${r.kind}/${r.metadata.name}`);
}

test('an invalid file keeps serving its last good resources; status says why', () => {
  const store = new ConfigStore();
  store.update('reviews.yaml', `${dr('reviews', ['v1'])}---\n${vs('reviews', 'v1')}`);
  const first = store.commit();
  assert.equal(first.changed, true);
  assert.deepEqual(names(store), ['DestinationRule/reviews', 'VirtualService/reviews']);

  // One bad document rejects the whole file: the good DR in it is not half-applied.
  store.update('reviews.yaml', `${dr('reviews', ['v1', 'v2'])}---\n${vs('reviews', 'v2').replace('subset: v2}', 'subset: v2}\n      weight: 500')}`);
  const second = store.commit();
  assert.equal(second.changed, false);
  assert.equal(second.version, first.version);
  const subsets = (store.snapshot().resources[0]!.spec as { subsets: unknown[] }).subsets;
  assert.equal(subsets.length, 1, 'still the last good DestinationRule');
  const st = store.status().files.find((f) => f.file === 'reviews.yaml')!;
  assert.equal(st.state, 'invalid');
  assert.equal(st.servingLastGood, true);
  assert.deepEqual(st.resources, ['DestinationRule default/reviews', 'VirtualService default/reviews']);
  const err = st.messages.find((m) => m.level === 'Error')!;
  assert.equal(err.code, 'IST0106');
  assert.equal(err.line, 22, 'names the bad line inside the second document');
  assert.equal(err.field, 'spec.http[0].route[0].weight');

  // Fixed: accepted, new version.
  store.update('reviews.yaml', `${dr('reviews', ['v1', 'v2'])}---\n${vs('reviews', 'v2')}`);
  const third = store.commit();
  assert.equal(third.changed, true);
  assert.equal(store.status().files[0]!.state, 'valid');
});

test('a file invalid from the start contributes nothing', () => {
  const store = new ConfigStore();
  store.update('bad.yaml', 'kind: [');
  store.commit();
  assert.deepEqual(store.snapshot().resources, []);
  const st = store.status().files[0]!;
  assert.equal(st.state, 'invalid');
  assert.equal(st.servingLastGood, false);
});

test('deleting a file removes its resources', () => {
  const store = new ConfigStore();
  store.update('a.yaml', dr('ratings', ['v1']));
  store.update('b.yaml', dr('reviews', ['v1']));
  store.commit();
  assert.equal(store.remove('a.yaml'), true);
  assert.equal(store.remove('a.yaml'), false);
  assert.equal(store.commit().changed, true);
  assert.deepEqual(names(store), ['DestinationRule/reviews']);
  assert.equal(store.status().files.find((f) => f.file === 'a.yaml')!.state, 'deleted');
});

test('the version depends on content only: same config, same version, whatever the order of reads', () => {
  const a = new ConfigStore();
  a.update('x.yaml', dr('reviews', ['v1']));
  a.update('y.yaml', vs('reviews', 'v1'));
  const b = new ConfigStore();
  b.update('y.yaml', vs('reviews', 'v1'));
  b.update('x.yaml', dr('reviews', ['v1']));
  assert.equal(a.commit().version, b.commit().version);
  assert.match(a.snapshot().version, /^[0-9a-f]{16}$/);
  // Reformatting alone (same resources, same lines) keeps the version.
  a.update('y.yaml', vs('reviews', 'v1').replace('hosts: [reviews]', 'hosts: ["reviews"]'));
  assert.equal(a.commit().changed, false);
  // A different value changes it.
  a.update('x.yaml', dr('reviews', ['v1', 'v2']));
  assert.equal(a.commit().changed, true);
});

test('a resource defined in two files: the first file by name wins, the other is reported', () => {
  const store = new ConfigStore();
  store.update('b.yaml', dr('reviews', ['v1', 'v2']));
  store.update('a.yaml', dr('reviews', ['v1']));
  store.commit();
  assert.equal(store.snapshot().resources.length, 1);
  assert.equal(store.snapshot().resources[0]!.source!.file, 'a.yaml');
  const b = store.status().files.find((f) => f.file === 'b.yaml')!;
  assert.deepEqual(b.messages.map((m) => m.code), ['MSH0006']);
});

test('cross-resource findings are reported but do not reject files', () => {
  const store = new ConfigStore();
  store.update('vs.yaml', vs('reviews', 'v9'));
  store.commit();
  const st = store.status().files[0]!;
  assert.equal(st.state, 'valid');
  assert.deepEqual(st.messages.map((m) => [m.code, m.line]), [['IST0101', 9]]);
  assert.equal(store.snapshot().resources.length, 1);
});

test('last good versions persist: a restarted store serves the same snapshot, version and publishedAt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'galley-state-'));
  try {
    let clock = 1_000_000;
    const now = () => new Date(clock);
    const one = new ConfigStore({ stateDir: dir, now });
    one.update('reviews.yaml', dr('reviews', ['v1']));
    one.update('vs.yaml', vs('reviews', 'v1'));
    one.commit();
    one.update('vs.yaml', 'kind: [');
    one.commit();
    const before = one.snapshot();
    const persisted = JSON.parse(readFileSync(join(dir, 'last-good.json'), 'utf8')) as { version: string; files: unknown[] };
    assert.equal(persisted.version, before.version);
    assert.equal(persisted.files.length, 2, 'the invalid file persists its last good version');

    clock += 60_000;
    const two = new ConfigStore({ stateDir: dir, now });
    assert.equal(two.loadState(), 2);
    assert.deepEqual(two.snapshot(), before);
    // Re-reading the same good file keeps the version.
    two.update('reviews.yaml', dr('reviews', ['v1']));
    assert.equal(two.commit().changed, false);
    // The still-broken file keeps its persisted last good version.
    two.update('vs.yaml', 'kind: [');
    two.commit();
    assert.equal(two.snapshot().version, before.version);
    assert.equal(two.status().files.find((f) => f.file === 'vs.yaml')!.servingLastGood, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('preview validates against the current snapshot without changing it', () => {
  const store = new ConfigStore();
  store.update('dr.yaml', dr('reviews', ['v1']));
  store.commit();
  const version = store.snapshot().version;
  const ok = store.preview('vs.yaml', vs('reviews', 'v1'));
  assert.equal(ok.accepted, true);
  assert.deepEqual(ok.messages, []);
  const missing = store.preview('vs.yaml', vs('reviews', 'v2'));
  assert.deepEqual(missing.messages.map((m) => m.code), ['IST0101']);
  const broken = store.preview('vs.yaml', 'kind: [');
  assert.equal(broken.accepted, false);
  assert.equal(store.snapshot().version, version);
  assert.equal(store.status().files.length, 1);
});

test('status lists every served resource with its place and the messages about it', () => {
  const store = new ConfigStore();
  store.update('reviews-dr.yaml', dr('reviews', ['v1']));
  store.update('reviews-vs.yaml', vs('reviews', 'v2'));
  store.commit();
  const st = store.status();
  assert.deepEqual(st.resources.map((r) => [r.resource, r.file, r.line]), [
    ['DestinationRule default/reviews', 'reviews-dr.yaml', 1],
    ['VirtualService default/reviews', 'reviews-vs.yaml', 1],
  ]);
  assert.deepEqual(st.resources[0]!.messages, []);
  assert.deepEqual(st.resources[1]!.messages.map((m) => m.code), ['IST0101']);
});
