// galley as a whole: the folder watcher feeds the store, every new snapshot version goes to
// the bus. Built without sockets (the bus is attached later), so tests drive it in-process.

import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bus, ConfigSnapshot, Logger, ReadyReport } from '#api';
import { formatMessage, messageTypes, type AnalysisMessage } from './analysis/index.js';
import type { GalleyMetrics } from './metrics.js';
import { defaultParseLimits, type ParseLimits } from './parse.js';
import { SnapshotPublisher } from './publish.js';
import { ConfigStore, type StatusReport } from './store.js';
import { ConfigWatcher, type WatchBatch } from './watch.js';

export interface GalleyOptions {
  /** Absolute path of the config folder. */
  configDir: string;
  /** Absolute path; absent: nothing persisted. */
  stateDir?: string;
  debounceMs: number;
  pollMs: number;
  limits?: ParseLimits;
  log: Logger;
  metrics: GalleyMetrics;
  /** How often to look for a config folder that does not exist yet. */
  folderRetryMs?: number;
}

export interface ValidateResult {
  file: string;
  valid: boolean;
  messages: AnalysisMessage[];
}

export class Galley {
  readonly store: ConfigStore;
  private watcher?: ConfigWatcher;
  private publisher?: SnapshotPublisher;
  private folderTimer?: NodeJS.Timeout;
  private scanned = false;
  private closed = false;
  private readonly limits: ParseLimits;

  constructor(private readonly opts: GalleyOptions) {
    this.limits = opts.limits ?? defaultParseLimits;
    this.store = new ConfigStore({ stateDir: opts.stateDir, limits: this.limits, log: opts.log });
  }

  /** Loads the persisted state, then reads the folder; resolves once the first scan is applied. */
  async start(): Promise<void> {
    const loaded = this.store.loadState();
    if (loaded > 0) this.opts.log.info({ files: loaded, version: this.store.snapshot().version }, 'last good config loaded from state');
    this.updateGauges();
    if (existsSync(this.opts.configDir)) {
      await this.startWatcher();
      return;
    }
    // A missing folder (a bind mount not there yet) must not wipe the persisted config.
    this.opts.log.warn({ dir: this.opts.configDir }, 'config folder not found; serving the last good config until it appears');
    const retry = () => {
      if (this.closed) return;
      if (existsSync(this.opts.configDir)) void this.startWatcher();
      else this.folderTimer = setTimeout(retry, this.opts.folderRetryMs ?? 1000);
    };
    this.folderTimer = setTimeout(retry, this.opts.folderRetryMs ?? 1000);
  }

  private async startWatcher(): Promise<void> {
    if (this.closed) return;
    const watcher = new ConfigWatcher({
      dir: this.opts.configDir, debounceMs: this.opts.debounceMs, pollMs: this.opts.pollMs, log: this.opts.log,
      onBatch: (b) => this.apply(b),
    });
    this.watcher = watcher;
    await watcher.start();
    if (this.closed) await watcher.close();
    else this.scanned = true;
  }

  /** Starts publishing on the bus: now, on every new version, after reconnects, on request. */
  attachBus(bus: Bus): void {
    this.publisher = new SnapshotPublisher(bus, () => this.store.snapshot(), this.opts.log, () => this.opts.metrics.snapshotsPublished.inc());
    this.publisher.start();
  }

  private async apply(batch: WatchBatch): Promise<void> {
    const { log, metrics } = this.opts;
    const seen = new Set<string>();
    for (const rel of batch.paths) {
      const abs = join(this.opts.configDir, rel);
      let size: number;
      try {
        const st = await stat(abs);
        if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
        size = st.size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
          if (this.store.remove(rel)) {
            metrics.fileUpdates.inc({ result: 'deleted' });
            log.info({ file: rel }, 'config file deleted');
          }
        } else {
          this.store.reject(rel, messageTypes.FileUnreadable, `cannot read file: ${(err as Error).message}`);
        }
        continue;
      }
      seen.add(rel);
      if (size > this.limits.maxBytes) {
        this.store.reject(rel, messageTypes.InputRejected, `file is ${size} bytes, over the limit of ${this.limits.maxBytes} bytes`);
        metrics.fileUpdates.inc({ result: 'rejected' });
        log.warn({ file: rel, size }, 'config file too large; last good version kept');
        continue;
      }
      let text: string;
      try {
        text = await readFile(abs, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') { this.store.remove(rel); continue; }
        this.store.reject(rel, messageTypes.FileUnreadable, `cannot read file: ${(err as Error).message}`);
        continue;
      }
      if (!this.store.update(rel, text)) continue;
      const st = this.store.fileState(rel);
      if (st?.state === 'invalid') {
        metrics.fileUpdates.inc({ result: 'rejected' });
        log.warn({ file: rel, messages: st.errors.map(formatMessage) },
          st.servingLastGood ? 'config file rejected; its last good version is still served' : 'config file rejected');
      } else {
        metrics.fileUpdates.inc({ result: 'accepted' });
      }
    }
    if (batch.initial) {
      // Files persisted from a previous run that are no longer in the folder.
      for (const f of this.store.files()) if (!seen.has(f) && this.store.remove(f)) log.info({ file: f }, 'config file gone since last run');
    }
    const { changed, version } = this.store.commit();
    this.updateGauges();
    if (changed) {
      log.info({ version, resources: this.store.snapshot().resources.length }, 'new config snapshot');
      this.publisher?.publish(this.store.snapshot(), 'change');
    }
  }

  private updateGauges(): void {
    const { metrics } = this.opts;
    const st = this.store.status();
    metrics.files.reset();
    for (const f of st.files) metrics.files.inc({ state: f.state });
    metrics.resources.set(this.store.snapshot().resources.length);
    metrics.messages.reset();
    for (const m of st.messages) metrics.messages.inc({ level: m.level });
  }

  ready(): ReadyReport {
    const version = this.store.snapshot().version;
    if (!this.scanned) {
      const detail = existsSync(this.opts.configDir) ? 'reading the config folder' : `config folder ${this.opts.configDir} not found`;
      return { component: 'galley', ready: false, detail, version };
    }
    if (!this.publisher) return { component: 'galley', ready: false, detail: 'not connected to the bus yet', version };
    return { component: 'galley', ready: true, version };
  }

  status(): StatusReport {
    return this.store.status();
  }

  snapshot(): ConfigSnapshot {
    return this.store.snapshot();
  }

  validate(file: string, text: string): ValidateResult {
    const { accepted, messages } = this.store.preview(file, text);
    return { file, valid: accepted, messages };
  }

  /** Waits until every file event so far has been applied (tests). */
  async idle(): Promise<void> {
    await this.watcher?.idle();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.folderTimer) clearTimeout(this.folderTimer);
    this.publisher?.close();
    await this.watcher?.close();
  }
}
