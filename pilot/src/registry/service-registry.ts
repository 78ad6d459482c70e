// The one interface every platform adapter sits behind (Istio's serviceregistry.Instance).
import type { RegistrySnapshot } from '#api';

export interface ServiceRegistry {
  /** `announce`, `docker`, ... for logs and debug output. */
  readonly name: string;
  /** The adapter's current view; cheap and synchronous (adapters keep a cache). */
  snapshot(): RegistrySnapshot;
  /** Called after the view changed; returns an unsubscribe function. */
  onChange(cb: () => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A tiny listener list, so adapters share one way of notifying. */
export class ChangeListeners {
  private readonly fns = new Set<() => void>();
  add(cb: () => void): () => void {
    this.fns.add(cb);
    return () => this.fns.delete(cb);
  }
  emit(): void {
    for (const fn of this.fns) fn();
  }
}
