// Issue 6 point 2, the sidecar side: records buffered up to a bound, sent in batches after
// the responses, what does not fit counted and reported; a bus that is away loses the batch
// but the loss is counted, never thrown at the request path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type ReportBatch } from '#api';
import { TelemetryReporter } from '../../../sidecar/src/telemetry.js';
import { record } from './fixtures.js';

const log = createLogger('t', 'silent');

test('a bounded buffer: overflow is dropped, counted, and reported with the next batch', () => {
  const sent: ReportBatch[] = [];
  const t = new TelemetryReporter({ proxyId: 'p', publish: (b) => sent.push(b), batchMs: 1000, bufferSize: 3, log });
  for (let i = 0; i < 5; i++) t.record(record());
  assert.deepEqual(t.snapshot(), { recorded: 3, dropped: 2, batches: 0, buffered: 3, publishErrors: 0 });
  t.flush();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.records.length, 3);
  assert.equal(sent[0]!.dropped, 2);
  t.record(record());
  t.flush();
  assert.equal(sent[1]!.dropped, 0, 'drops are reported once');
  t.flush();
  assert.equal(sent.length, 2, 'nothing to send, nothing sent');
});

test('a failing publish loses the batch but counts it and reports the loss next time', () => {
  const sent: ReportBatch[] = [];
  let up = false;
  const t = new TelemetryReporter({ proxyId: 'p', publish: (b) => { if (!up) throw new Error('bus away'); sent.push(b); }, batchMs: 1000, bufferSize: 10, log });
  t.record(record());
  t.record(record());
  t.flush();
  assert.equal(t.snapshot().publishErrors, 1);
  up = true;
  t.record(record());
  t.flush();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.records.length, 1);
  assert.equal(sent[0]!.dropped, 2);
});

test('check cache counts ride along with the batch', () => {
  const sent: ReportBatch[] = [];
  const t = new TelemetryReporter({ proxyId: 'p', publish: (b) => sent.push(b), batchMs: 1000, bufferSize: 10, log, checkCacheCounts: () => ({ hits: 5, misses: 1, failOpen: 0, failClosed: 0 }) });
  t.record(record());
  t.flush();
  assert.deepEqual(sent[0]!.checkCache, { hits: 5, misses: 1, failOpen: 0, failClosed: 0 });
});
