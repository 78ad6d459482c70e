// Watches the config folder (recursive, .yaml/.yml only; dotfiles and editor temp files
// ignored) and hands the changed paths over in debounced batches. Atomic saves (write a temp
// file, rename it over the real one) arrive as a change of the real file; a delete as a path
// that no longer exists: the batch consumer re-reads every path it is given, so it never
// depends on which event chokidar chose.

import { relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '#api';
import { isConfigFile } from './config-files.js';

export { isConfigFile };

function isIgnoredDir(rel: string): boolean {
  return rel.split(/[\\/]/).some((p) => p.startsWith('.'));
}

export interface WatchBatch {
  /** Relative to the folder, `/`-separated. */
  paths: string[];
  /** The first batch: every file found at start. */
  initial: boolean;
}

export interface WatcherOptions {
  dir: string;
  debounceMs: number;
  /** >0: poll every N ms instead of file system events. */
  pollMs: number;
  /** Flush at the latest this long after the first pending event, even if events keep coming. */
  maxWaitMs?: number;
  log: Logger;
  onBatch(batch: WatchBatch): Promise<void>;
}

export class ConfigWatcher {
  private watcher?: FSWatcher;
  private readonly pending = new Set<string>();
  private readonly known = new Set<string>();
  private timer?: NodeJS.Timeout;
  private firstPendingAt = 0;
  private chain: Promise<void> = Promise.resolve();
  private initialDone = false;
  private closed = false;

  constructor(private readonly opts: WatcherOptions) {}

  /** Resolves once the initial scan has been handed over and processed. */
  start(): Promise<void> {
    const { dir, pollMs } = this.opts;
    const rel = (p: string) => relative(dir, p).split(sep).join('/');
    return new Promise<void>((resolve) => {
      this.watcher = watch(dir, {
        ignoreInitial: false,
        usePolling: pollMs > 0,
        interval: pollMs > 0 ? pollMs : undefined,
        binaryInterval: pollMs > 0 ? pollMs : undefined,
        ignored: (p, stats) => {
          const r = rel(p);
          if (r === '' || r.startsWith('..')) return false;
          if (stats?.isFile()) return !isConfigFile(r);
          return isIgnoredDir(r);
        },
      });
      const touch = (p: string) => {
        const r = rel(p);
        if (!isConfigFile(r)) return;
        this.queue(r);
      };
      this.watcher
        .on('add', (p) => { this.known.add(rel(p)); touch(p); })
        .on('change', touch)
        .on('unlink', (p) => { this.known.delete(rel(p)); touch(p); })
        .on('unlinkDir', (p) => {
          const prefix = `${rel(p)}/`;
          for (const f of this.known) if (f.startsWith(prefix)) { this.known.delete(f); this.queue(f); }
        })
        .on('error', (err) => this.opts.log.error({ err }, 'config folder watch error'))
        .on('ready', () => {
          this.flush(true).then(resolve, resolve);
        });
    });
  }

  private queue(rel: string): void {
    if (this.closed) return;
    if (this.pending.size === 0) this.firstPendingAt = Date.now();
    this.pending.add(rel);
    if (!this.initialDone) return; // the initial scan is flushed on 'ready'
    if (this.timer) clearTimeout(this.timer);
    const maxWait = this.opts.maxWaitMs ?? Math.max(this.opts.debounceMs * 10, 500);
    const wait = Math.min(this.opts.debounceMs, Math.max(0, this.firstPendingAt + maxWait - Date.now()));
    this.timer = setTimeout(() => void this.flush(false), wait);
  }

  private flush(initial: boolean): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (initial) this.initialDone = true;
    const paths = [...this.pending].sort();
    this.pending.clear();
    if (!initial && paths.length === 0) return this.chain;
    // Batches run one after another: a slow read never interleaves with the next batch.
    this.chain = this.chain.then(() => this.opts.onBatch({ paths, initial })).catch((err) => {
      this.opts.log.error({ err }, 'config batch failed');
    });
    return this.chain;
  }

  /** Waits for batches already handed over (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
    await this.chain;
  }
}
