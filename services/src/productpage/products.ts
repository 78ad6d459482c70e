// The catalogue (one book, as in Bookinfo) and the service tree the index page shows.

export interface Product {
  id: number;
  title: string;
  /** Trusted, static HTML. */
  descriptionHtml: string;
}

export const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml: '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

export function product(id: number): Product | undefined {
  return PRODUCTS[id];
}

export interface ServiceNode {
  name: string;
  endpoint: string;
  children: ServiceNode[];
}

export interface BackendUrls {
  details: string;
  reviews: string;
  ratings: string;
}

export function serviceTree(urls: BackendUrls): ServiceNode {
  const details: ServiceNode = { name: urls.details, endpoint: 'details', children: [] };
  const ratings: ServiceNode = { name: urls.ratings, endpoint: 'ratings', children: [] };
  const reviews: ServiceNode = { name: urls.reviews, endpoint: 'reviews', children: [ratings] };
  return { name: urls.details, endpoint: 'details', children: [details, reviews] };
}
