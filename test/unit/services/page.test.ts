import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderProductPage, renderStars, escapeHtml } from '../../../services/src/productpage/page.js';
import { reviewsBody } from '../../../services/src/reviews/reviews.js';
import { product } from '../../../services/src/productpage/products.js';
import { bookDetails } from '../../../services/src/details/details.js';

const count = (s: string, needle: string) => s.split(needle).length - 1;

function page(version: 'v1' | 'v2' | 'v3', over: Partial<Parameters<typeof renderProductPage>[0]> = {}) {
  const reviews = reviewsBody({
    productId: 0, podName: `reviews-${version}-abc`, clusterName: 'null',
    ratingsEnabled: version !== 'v1', starColor: version === 'v3' ? 'red' : 'black',
    ratings: { Reviewer1: 5, Reviewer2: 4 },
  });
  return renderProductPage({
    product: product(0), user: '', detailsStatus: 200, details: bookDetails(0) as unknown as Record<string, unknown>,
    reviewsStatus: 200, reviews: reviews as unknown as Record<string, unknown>, ...over,
  });
}

test('v1 reviews render no stars', () => {
  const html = page('v1');
  assert.equal(count(html, '<font'), 0);
  assert.equal(count(html, 'glyphicon-star'), 0);
  assert.match(html, /An extremely entertaining play by Shakespeare/);
  assert.match(html, /reviews-v1-abc/);
});

test('v2 renders black stars, v3 red: 5 and 4 full stars out of 5', () => {
  for (const [v, color] of [['v2', 'black'], ['v3', 'red']] as const) {
    const html = page(v);
    assert.equal(count(html, `<font color="${color}">`), 2, v);
    assert.equal(count(html, 'class="glyphicon glyphicon-star"'), 9, v);
    assert.equal(count(html, 'class="glyphicon glyphicon-star-empty"'), 1, v);
  }
});

test('a ratings error is shown in place of the stars', () => {
  assert.equal(renderStars({ error: 'Ratings service is currently unavailable' }), '<p><i>Ratings service is currently unavailable</i></p>');
  assert.equal(renderStars(undefined), '');
});

test('failures render the original messages', () => {
  const html = page('v3', {
    detailsStatus: 500, details: { error: 'Sorry, product details are currently unavailable for this book.' },
    reviewsStatus: 503, reviews: { error: 'Sorry, product reviews are currently unavailable for this book.' },
  });
  assert.match(html, /Error fetching product details!/);
  assert.match(html, /Sorry, product details are currently unavailable for this book\./);
  assert.match(html, /Error fetching product reviews!/);
  assert.match(html, /Sorry, product reviews are currently unavailable for this book\./);
});

test('details and the signed-in user appear escaped', () => {
  const html = page('v1', { user: '<jason>' });
  assert.match(html, /&lt;jason&gt; \( <a href="logout">sign out<\/a> \)/);
  assert.match(html, /<dt>ISBN-10:<\/dt><dd>1234567890<\/dd>/);
  assert.match(html, /The Comedy of Errors/);
  assert.equal(escapeHtml(`"'&`), '&quot;&#39;&amp;');
});
