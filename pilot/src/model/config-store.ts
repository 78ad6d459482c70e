// The latest config snapshot galley published. Pilot keeps the last good one: a message
// that is not a snapshot is refused with a reason and changes nothing.
import type { ConfigSnapshot } from '#api';

export function snapshotProblem(x: unknown): string | undefined {
  if (!x || typeof x !== 'object') return 'snapshot is not an object';
  const s = x as Partial<ConfigSnapshot>;
  if (typeof s.version !== 'string' || !s.version) return 'snapshot has no version';
  if (!Array.isArray(s.resources)) return `snapshot ${s.version}: resources is not a list`;
  return undefined;
}

export class ConfigStore {
  private current: ConfigSnapshot | undefined;
  private readonly listeners = new Set<(s: ConfigSnapshot) => void>();
  receivedAt: number | undefined;

  get snapshot(): ConfigSnapshot | undefined {
    return this.current;
  }

  onChange(cb: (s: ConfigSnapshot) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Returns 'changed', 'unchanged' (same version), or the reason the message was refused. */
  set(x: unknown): { result: 'changed' | 'unchanged' } | { result: 'refused'; reason: string } {
    const problem = snapshotProblem(x);
    if (problem) return { result: 'refused', reason: problem };
    const s = x as ConfigSnapshot;
    if (this.current?.version === s.version) return { result: 'unchanged' };
    this.current = s;
    this.receivedAt = Date.now();
    for (const fn of this.listeners) fn(s);
    return { result: 'changed' };
  }
}
