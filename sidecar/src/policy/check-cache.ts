// The sidecar's policy check cache (Istio 1.1's mixer client cache): an answer is stored
// under the values of the attributes mixer says it depended on (its "shape"), for its
// validity (a duration and a use count, whichever ends first). A lookup tries each known
// shape: a request with the same values for a shape's attributes gets the same answer, so a
// repeated decision costs a few map lookups instead of a round trip.
import { LRUCache } from 'lru-cache';
import { referenceSignature, type CheckRequest, type CheckResponse } from '#api';

interface Entry {
  response: CheckResponse;
  expiresAt: number;
  usesLeft: number;
}

export interface CheckCacheOptions {
  maxEntries: number;
  /** Distinct dependency sets kept; past it the cache starts again. */
  maxShapes?: number;
  now?: () => number;
}

export class CheckCache {
  private readonly shapes = new Map<string, readonly string[]>();
  private readonly entries: LRUCache<string, Entry>;
  private readonly now: () => number;
  private readonly maxShapes: number;
  /** Bumped by clear(): answers asked for before a clear are not stored after it. */
  generation = 0;

  constructor(opts: CheckCacheOptions) {
    this.entries = new LRUCache<string, Entry>({ max: Math.max(1, opts.maxEntries) });
    this.now = opts.now ?? Date.now;
    this.maxShapes = opts.maxShapes ?? 64;
  }

  /** A cached answer for this request, consuming one use; undefined on a miss. */
  lookup(req: CheckRequest): CheckResponse | undefined {
    if (this.shapes.size === 0) return undefined;
    const now = this.now();
    for (const [shape, refs] of this.shapes) {
      const key = `${shape}\u0003${referenceSignature(req, refs)}`;
      const e = this.entries.get(key);
      if (!e) continue;
      if (e.expiresAt <= now || e.usesLeft <= 0) {
        this.entries.delete(key);
        continue;
      }
      e.usesLeft--;
      return e.response;
    }
    return undefined;
  }

  /** Stores an answer the request just used once; false when it is not reusable. */
  store(req: CheckRequest, res: CheckResponse, generation = this.generation): boolean {
    if (generation !== this.generation) return false;
    const refs = res.referencedAttributes;
    if (!refs || res.validUseCount <= 1 || res.validDurationMs <= 0) return false;
    const shape = refs.join('\u0002');
    if (!this.shapes.has(shape)) {
      if (this.shapes.size >= this.maxShapes) this.clear();
      this.shapes.set(shape, [...refs]);
    }
    this.entries.set(`${shape}\u0003${referenceSignature(req, refs)}`, { response: res, expiresAt: this.now() + res.validDurationMs, usesLeft: res.validUseCount - 1 });
    return true;
  }

  clear(): void {
    this.generation++;
    this.shapes.clear();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  describe(): Record<string, unknown> {
    return { entries: this.entries.size, shapes: [...this.shapes.values()] };
  }
}
