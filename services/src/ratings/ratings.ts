// Ratings as Bookinfo's ratings service keeps them: defaults per product, overridden by POSTs,
// in memory. The fault-demo versions (v-faulty, v-delayed) fail or stall half of the calls.

export interface ProductRatings {
  id: number;
  ratings: Record<string, number>;
}

export class RatingsStore {
  private readonly added = new Map<number, ProductRatings>();

  get(id: number): ProductRatings {
    return this.added.get(id) ?? { id, ratings: { Reviewer1: 5, Reviewer2: 4 } };
  }

  put(id: number, ratings: Record<string, number>): ProductRatings {
    this.added.set(id, { id, ratings });
    return this.get(id);
  }
}

export type RatingsBehaviour = { kind: 'ok' } | { kind: 'unavailable' } | { kind: 'delay'; ms: number };

export function behaviourFor(version: string, random: () => number = Math.random): RatingsBehaviour {
  if (version === 'v-faulty') return random() <= 0.5 ? { kind: 'unavailable' } : { kind: 'ok' };
  if (version === 'v-delayed') return random() <= 0.5 ? { kind: 'delay', ms: 7000 } : { kind: 'ok' };
  return { kind: 'ok' };
}

/** A ratings body is an object of reviewer -> integer stars. */
export function parseRatings(body: string): Record<string, number> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    for (const x of Object.values(v)) if (typeof x !== 'number') return undefined;
    return v as Record<string, number>;
  } catch {
    return undefined;
  }
}
