// The product page and index as HTML, rendered from plain data (pure, tested on its own).
// Layout follows Bookinfo's classic page: details on the left, reviews on the right, stars as
// <font color="black|red"> around star glyphs. No external assets: it renders offline.
import type { Product, ServiceNode } from './products.js';

export function escapeHtml(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface ReviewView {
  reviewer?: unknown;
  text?: unknown;
  rating?: { stars?: unknown; color?: unknown; error?: unknown };
}

export interface ProductPageView {
  product: Product | undefined;
  user: string;
  detailsStatus: number;
  details: Record<string, unknown>;
  reviewsStatus: number;
  reviews: Record<string, unknown>;
}

/** Full stars then empty ones out of five; nothing when the review has no rating (v1). */
export function renderStars(rating: ReviewView['rating']): string {
  if (!rating || typeof rating !== 'object') return '';
  const stars = rating.stars;
  if (typeof stars === 'number' && Number.isInteger(stars) && stars > 0) {
    const n = Math.min(stars, 5);
    const full = '<span class="glyphicon glyphicon-star">&#9733;</span>'.repeat(n);
    const empty = '<span class="glyphicon glyphicon-star-empty">&#9734;</span>'.repeat(5 - n);
    return `<font color="${escapeHtml(rating.color)}">${full}${empty}</font>`;
  }
  if (rating.error) return `<p><i>${escapeHtml(rating.error)}</i></p>`;
  return '';
}

function renderDetails(status: number, details: Record<string, unknown>): string {
  if (status !== 200) {
    return `<h4 class="text-center text-primary">Error fetching product details!</h4>\n${details.error ? `<p>${escapeHtml(details.error)}</p>` : ''}`;
  }
  const rows = ([['Type', 'type'], ['Pages', 'pages'], ['Publisher', 'publisher'], ['Language', 'language'], ['ISBN-10', 'ISBN-10'], ['ISBN-13', 'ISBN-13']] as const)
    .map(([label, key]) => `<dt>${label}:</dt><dd>${escapeHtml(details[key])}</dd>`).join('\n');
  return `<h4 class="text-center text-primary">Book Details</h4>\n<dl>\n${rows}\n</dl>`;
}

function renderReviews(status: number, body: Record<string, unknown>): string {
  if (status !== 200) {
    return `<h4 class="text-center text-primary">Error fetching product reviews!</h4>\n${body.error ? `<p>${escapeHtml(body.error)}</p>` : ''}`;
  }
  const reviews = Array.isArray(body.reviews) ? (body.reviews as ReviewView[]) : [];
  const items = reviews.map((r) => `<blockquote>\n<p>${escapeHtml(r.text)}</p>\n<small>${escapeHtml(r.reviewer)}</small>\n${renderStars(r.rating)}\n</blockquote>`).join('\n');
  const cluster = body.clustername !== undefined && body.clustername !== 'null' ? ` on cluster <u>${escapeHtml(body.clustername)}</u>` : '';
  return `<h4 class="text-center text-primary">Book Reviews</h4>\n${items}\n<dl>\n<dt>Reviews served by:</dt>\n<u>${escapeHtml(body.podname)}</u>${cluster}\n</dl>`;
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="static/bookinfo.css">
</head>
<body>
${body}
</body>
</html>
`;
}

export function renderProductPage(v: ProductPageView): string {
  const nav = v.user
    ? `<p class="navbar-text navbar-right">${escapeHtml(v.user)} ( <a href="logout">sign out</a> )</p>`
    : `<form class="navbar-right" method="post" action="login" name="login_form">
<input type="text" name="username" id="username" placeholder="User Name">
<input type="password" name="passwd" placeholder="Password">
<button type="submit">Sign in</button>
</form>`;
  const product = v.product
    ? `<h3 class="text-center text-primary">${escapeHtml(v.product.title)}</h3>\n<p>Summary: ${v.product.descriptionHtml}</p>`
    : '<h3 class="text-center text-primary">Unknown product</h3>';
  return layout('Simple Bookstore App', `<nav class="navbar"><span class="navbar-brand">BookInfo Sample</span>
${nav}
</nav>
<div class="container-fluid">
<div class="row"><div class="col-md-12">
${product}
</div></div>
<div class="row">
<div class="col-md-6">
${renderDetails(v.detailsStatus, v.details)}
</div>
<div class="col-md-6">
${renderReviews(v.reviewsStatus, v.reviews)}
</div>
</div>
</div>`);
}

function renderTree(node: ServiceNode): string {
  const children = node.children.length ? `<ul>${node.children.map((c) => `<li>${renderTree(c)}</li>`).join('')}</ul>` : '';
  return `<table><tr><th>name</th><td>${escapeHtml(node.name)}</td></tr><tr><th>endpoint</th><td>${escapeHtml(node.endpoint)}</td></tr></table>${children}`;
}

export function renderIndex(tree: ServiceNode): string {
  return layout('Simple Bookstore App', `<div class="container">
<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
${renderTree(tree)}
<p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
<ul>
<li><a href="/productpage?u=normal">Normal user</a></li>
<li><a href="/productpage?u=test">Test user</a></li>
</ul>
</div>`);
}

export const STYLESHEET = `body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #333; }
.navbar { background: #222; color: #eee; padding: 10px 20px; display: flex; justify-content: space-between; align-items: center; }
.navbar a { color: #9cf; }
.navbar-brand { font-size: 18px; }
.container, .container-fluid { padding: 0 20px; }
.row { display: flex; flex-wrap: wrap; gap: 20px; }
.col-md-12 { flex: 1 1 100%; }
.col-md-6 { flex: 1 1 45%; min-width: 300px; }
.text-center { text-align: center; }
.text-primary { color: #337ab7; }
blockquote { border-left: 5px solid #eee; margin: 0 0 20px; padding: 10px 20px; }
blockquote small { display: block; color: #777; }
.glyphicon { font-size: 18px; font-style: normal; }
dt { font-weight: bold; }
dd { margin: 0 0 6px 0; }
table { border-collapse: collapse; margin: 4px 0; }
th { background: #466BB0; color: #fff; padding: 4px 8px; }
td { border: 1px solid lightgrey; padding: 4px 8px; }
`;
