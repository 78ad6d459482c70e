// Istio's push debounce: fire after a quiet period, but never later than a cap after the
// first change, so a steady trickle of changes cannot starve pushes.
export interface DebounceOptions {
  quietMs: number;
  maxMs: number;
  now?: () => number;
}

export class Debouncer {
  private timer: NodeJS.Timeout | undefined;
  private firstAt: number | undefined;
  /** How many triggers the next fire covers. */
  pendingTriggers = 0;

  constructor(private readonly fire: (triggers: number) => void, private readonly opts: DebounceOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get pending(): boolean {
    return this.firstAt !== undefined;
  }

  trigger(): void {
    const now = this.now();
    this.firstAt ??= now;
    this.pendingTriggers++;
    if (this.timer) clearTimeout(this.timer);
    const left = this.opts.maxMs - (now - this.firstAt);
    if (left <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => this.flush(), Math.min(this.opts.quietMs, left));
    this.timer.unref();
  }

  /** Fires now if anything is pending. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.firstAt === undefined) return;
    const n = this.pendingTriggers;
    this.firstAt = undefined;
    this.pendingTriggers = 0;
    this.fire(n);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstAt = undefined;
    this.pendingTriggers = 0;
  }
}
