// The plug-in seam: every backend mixer feeds (Prometheus today; access logs, trace spans,
// list checks and quotas later) implements this one interface, like Istio 1.1's adapters.
import type { ReportRecord } from '#api';

export interface Adapter {
  /** Stable name, used in metrics and debug output (`prometheus`). */
  readonly name: string;
  /** Called with every accepted batch, off the request path. Must not throw for bad records. */
  handleReport(records: readonly ReportRecord[]): void;
  /** Its own view of the world for /debug/stats. */
  describe(): Record<string, unknown>;
  close?(): void | Promise<void>;
}
