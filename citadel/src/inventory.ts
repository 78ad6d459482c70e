// Every certificate citadel issued, newest last, bounded so a long-running citadel stays small.

export interface IssuedRecord {
  serial: string;
  spiffeId: string;
  proxyId: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

export class Inventory {
  private readonly ring: (IssuedRecord | undefined)[];
  private next = 0;
  private size = 0;
  private total = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(Math.max(1, capacity));
  }

  add(rec: IssuedRecord): void {
    this.ring[this.next] = rec;
    this.next = (this.next + 1) % this.ring.length;
    this.size = Math.min(this.size + 1, this.ring.length);
    this.total++;
  }

  /** Newest first; optionally only one proxy's or one identity's certs. */
  list(filter: { proxyId?: string; spiffeId?: string; limit?: number } = {}): IssuedRecord[] {
    const out: IssuedRecord[] = [];
    const limit = filter.limit ?? this.size;
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const rec = this.ring[(this.next - i + this.ring.length) % this.ring.length]!;
      if (filter.proxyId && rec.proxyId !== filter.proxyId) continue;
      if (filter.spiffeId && rec.spiffeId !== filter.spiffeId) continue;
      out.push(rec);
    }
    return out;
  }

  stats(): { kept: number; issuedTotal: number; capacity: number } {
    return { kept: this.size, issuedTotal: this.total, capacity: this.ring.length };
  }
}
