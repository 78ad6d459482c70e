import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reviewsBody, ratingsTimeoutMs, RATINGS_UNAVAILABLE } from '../../../services/src/reviews/reviews.js';
import { bookDetails } from '../../../services/src/details/details.js';
import { RatingsStore, behaviourFor, parseRatings } from '../../../services/src/ratings/ratings.js';

const base = { productId: 0, podName: 'reviews-v2-x', clusterName: 'null', starColor: 'black' };

test('v1 reviews carry no rating field at all', () => {
  const b = reviewsBody({ ...base, ratingsEnabled: false, ratings: { Reviewer1: 5 } });
  assert.equal(b.id, '0');
  assert.equal(b.podname, 'reviews-v2-x');
  assert.equal(b.clustername, 'null');
  assert.deepEqual(b.reviews.map((r) => r.reviewer), ['Reviewer1', 'Reviewer2']);
  assert.equal(b.reviews.some((r) => 'rating' in r), false);
});

test('v2/v3 reviews carry stars in their colour', () => {
  const b = reviewsBody({ ...base, starColor: 'red', ratingsEnabled: true, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  assert.deepEqual(b.reviews.map((r) => r.rating), [{ stars: 5, color: 'red' }, { stars: 4, color: 'red' }]);
});

test('unavailable ratings give the original error per review', () => {
  const b = reviewsBody({ ...base, ratingsEnabled: true });
  assert.deepEqual(b.reviews.map((r) => r.rating), [{ error: RATINGS_UNAVAILABLE }, { error: RATINGS_UNAVAILABLE }]);
  assert.equal(RATINGS_UNAVAILABLE, 'Ratings service is currently unavailable');
});

test('ratings timeout: 10 s for black (v2), 2.5 s for red (v3)', () => {
  assert.equal(ratingsTimeoutMs('black'), 10_000);
  assert.equal(ratingsTimeoutMs('red'), 2_500);
});

test('details JSON has the original fields in order', () => {
  assert.deepEqual(Object.keys(bookDetails(0)), ['id', 'author', 'year', 'type', 'pages', 'publisher', 'language', 'ISBN-10', 'ISBN-13']);
});

test('ratings store: defaults, then what was posted; fault versions by draw', () => {
  const s = new RatingsStore();
  assert.deepEqual(s.get(1), { id: 1, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  assert.deepEqual(s.put(1, { Reviewer1: 1 }), { id: 1, ratings: { Reviewer1: 1 } });
  assert.equal(parseRatings('{"a":"x"}'), undefined);
  assert.equal(parseRatings('nope'), undefined);
  assert.deepEqual(behaviourFor('v-faulty', () => 0.1), { kind: 'unavailable' });
  assert.deepEqual(behaviourFor('v-delayed', () => 0.9), { kind: 'ok' });
  assert.deepEqual(behaviourFor('v1', () => 0.1), { kind: 'ok' });
});
