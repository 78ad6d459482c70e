// Calls from productpage to details, reviews and ratings, with the original's failure
// behaviour: 3 s timeouts, one retry toward reviews, an error body instead of an exception.
import type { OutboundClient } from '../lib/client.js';
import type { BackendUrls } from './products.js';

export interface BackendResult<T> {
  status: number;
  body: T | { error: string };
}

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_UNAVAILABLE = 'Sorry, product ratings are currently unavailable for this book.';

export interface BackendOptions {
  client: OutboundClient;
  urls: BackendUrls;
  timeoutMs?: number;
}

export class Backends {
  private readonly timeoutMs: number;

  constructor(private readonly o: BackendOptions) {
    this.timeoutMs = o.timeoutMs ?? 3000;
  }

  private async call(url: string, headers: Record<string, string>): Promise<{ status: number; json?: unknown }> {
    try {
      const res = await this.o.client.get(url, { headers, timeoutMs: this.timeoutMs });
      if (res.status !== 200) return { status: res.status || 500 };
      return { status: 200, json: JSON.parse(res.body) };
    } catch {
      return { status: 500 };
    }
  }

  async details(productId: string | number, headers: Record<string, string>): Promise<BackendResult<Record<string, unknown>>> {
    const r = await this.call(`${this.o.urls.details}/details/${productId}`, headers);
    return r.status === 200 ? { status: 200, body: r.json as Record<string, unknown> } : { status: r.status, body: { error: DETAILS_UNAVAILABLE } };
  }

  /** Two attempts: the original's deliberate retry, which Istio's fault-injection task shows. */
  async reviews(productId: string | number, headers: Record<string, string>): Promise<BackendResult<Record<string, unknown>>> {
    let last = { status: 500 } as { status: number; json?: unknown };
    for (let attempt = 0; attempt < 2; attempt++) {
      last = await this.call(`${this.o.urls.reviews}/reviews/${productId}`, headers);
      if (last.status === 200) return { status: 200, body: last.json as Record<string, unknown> };
    }
    return { status: last.status, body: { error: REVIEWS_UNAVAILABLE } };
  }

  async ratings(productId: string | number, headers: Record<string, string>): Promise<BackendResult<Record<string, unknown>>> {
    const r = await this.call(`${this.o.urls.ratings}/ratings/${productId}`, headers);
    return r.status === 200 ? { status: 200, body: r.json as Record<string, unknown> } : { status: r.status, body: { error: RATINGS_UNAVAILABLE } };
  }
}
