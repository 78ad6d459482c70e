import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inventory, type IssuedRecord } from '../../../citadel/src/inventory.js';

const rec = (i: number, proxyId = 'p'): IssuedRecord => ({
  serial: `S${i}`, spiffeId: `spiffe://cluster.local/ns/default/sa/${proxyId}`, proxyId,
  notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-02T00:00:00.000Z', issuedAt: '2026-01-01T00:00:00.000Z',
});

test('the inventory keeps the newest N records, newest first, and counts every issue', () => {
  const inv = new Inventory(3);
  for (let i = 1; i <= 5; i++) inv.add(rec(i, i % 2 ? 'odd' : 'even'));
  assert.deepEqual(inv.list().map((r) => r.serial), ['S5', 'S4', 'S3']);
  assert.deepEqual(inv.stats(), { kept: 3, issuedTotal: 5, capacity: 3 });
  assert.deepEqual(inv.list({ proxyId: 'odd' }).map((r) => r.serial), ['S5', 'S3']);
  assert.deepEqual(inv.list({ spiffeId: 'spiffe://cluster.local/ns/default/sa/even' }).map((r) => r.serial), ['S4']);
  assert.deepEqual(inv.list({ limit: 1 }).map((r) => r.serial), ['S5']);
  assert.deepEqual(new Inventory(10).list(), []);
});
