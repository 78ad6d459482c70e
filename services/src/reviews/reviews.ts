// The reviews body Bookinfo's reviews service returns, built from the ratings it could fetch.

export type Rating = { stars: number; color: string } | { error: string };

export interface Review {
  reviewer: string;
  text: string;
  rating?: Rating;
}

export interface ReviewsBody {
  id: string;
  podname: string;
  clustername: string;
  reviews: Review[];
}

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

const REVIEWS: readonly { reviewer: string; text: string }[] = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
];

export interface ReviewsOptions {
  productId: number;
  podName: string;
  clusterName: string;
  ratingsEnabled: boolean;
  starColor: string;
  /** reviewer -> stars, undefined when ratings could not be fetched. */
  ratings?: Record<string, unknown>;
}

export function reviewsBody(o: ReviewsOptions): ReviewsBody {
  return {
    id: String(o.productId),
    podname: o.podName,
    clustername: o.clusterName,
    reviews: REVIEWS.map((r) => {
      if (!o.ratingsEnabled) return { ...r };
      const stars = o.ratings?.[r.reviewer];
      const rating: Rating = typeof stars === 'number' && Number.isInteger(stars) ? { stars, color: o.starColor } : { error: RATINGS_UNAVAILABLE };
      return { ...r, rating };
    }),
  };
}

/** v2 (black) waits 10 s for ratings, v3 (red) 2.5 s: Istio's timeout task relies on the difference. */
export function ratingsTimeoutMs(starColor: string): number {
  return starColor === 'black' ? 10_000 : 2_500;
}
