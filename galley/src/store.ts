// Per-file config state. A file that fails validation keeps serving its last good resources;
// the snapshot is every file's last good resources, deduplicated and sorted, versioned by
// content. Last good versions are persisted (write temp, rename) so a restarted galley serves
// the same snapshot before it has re-read the folder.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigSnapshot, Logger, Resource } from '#api';
import { checkFile, locatorOf, mergeFiles, runAnalyzers } from './analysis/index.js';
import { messageTypes, resourceName, sortMessages, type AnalysisMessage, type MessageType } from './analysis/messages.js';
import { defaultParseLimits, type LocatedResource, type ParseLimits } from './parse.js';
import { contentHash, snapshotVersion } from './snapshot-version.js';

export type FileState = 'valid' | 'invalid' | 'deleted';

export interface FileStatus {
  /** Relative to the config folder. */
  file: string;
  state: FileState;
  /** sha256 of the content last read; absent when deleted or unreadable. */
  contentHash?: string;
  /** What this file contributes to the snapshot: its last good resources. */
  resources: string[];
  /** true when the file is invalid and an earlier good version of it is still served. */
  servingLastGood: boolean;
  messages: AnalysisMessage[];
  updatedAt: string;
}

/** One resource of the snapshot, where it comes from, and what was said about it. */
export interface ResourceStatus {
  /** `VirtualService default/reviews` */
  resource: string;
  apiVersion: string;
  file?: string;
  line?: number;
  messages: AnalysisMessage[];
}

export interface StatusReport {
  version: string;
  publishedAt: string;
  files: FileStatus[];
  /** Every resource served, with the messages about it. */
  resources: ResourceStatus[];
  messages: AnalysisMessage[];
}

interface FileEntry {
  file: string;
  state: FileState;
  contentHash?: string;
  lastGood?: { contentHash: string; resources: LocatedResource[] };
  messages: AnalysisMessage[];
  updatedAt: string;
  /** Loaded from the state file and not yet read from the folder. */
  fromState?: boolean;
}

interface PersistedState {
  format: 1;
  version: string;
  publishedAt: string;
  files: { file: string; contentHash: string; resources: Resource[] }[];
}

export interface StoreOptions {
  /** Where last good versions are kept; absent: nothing persisted (tests, meshctl). */
  stateDir?: string;
  limits?: ParseLimits;
  log?: Logger;
  now?: () => Date;
}

export class ConfigStore {
  private readonly entries = new Map<string, FileEntry>();
  private readonly limits: ParseLimits;
  private readonly now: () => Date;
  private current: ConfigSnapshot;
  private crossMessages: AnalysisMessage[] = [];
  private dirty = true;
  private persisted?: { version: string; publishedAt: string };

  constructor(private readonly opts: StoreOptions = {}) {
    this.limits = opts.limits ?? defaultParseLimits;
    this.now = opts.now ?? (() => new Date());
    this.current = { version: snapshotVersion([]), publishedAt: this.now().toISOString(), resources: [] };
  }

  private get stateFile(): string | undefined {
    return this.opts.stateDir ? join(this.opts.stateDir, 'last-good.json') : undefined;
  }

  /** Loads the last good versions persisted by a previous run. Returns how many files. */
  loadState(): number {
    const path = this.stateFile;
    if (!path) return 0;
    let state: PersistedState;
    try {
      state = JSON.parse(readFileSync(path, 'utf8')) as PersistedState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log?.warn({ err, path }, 'galley state unreadable; starting from the folder alone');
      return 0;
    }
    if (state?.format !== 1 || !Array.isArray(state.files)) {
      this.opts.log?.warn({ path }, 'galley state has an unknown format; ignored');
      return 0;
    }
    const at = this.now().toISOString();
    for (const f of state.files) {
      if (typeof f?.file !== 'string' || !Array.isArray(f.resources)) continue;
      this.entries.set(f.file, {
        file: f.file, state: 'valid', contentHash: f.contentHash, messages: [], updatedAt: at, fromState: true,
        lastGood: { contentHash: f.contentHash, resources: f.resources.map((resource) => ({ resource, locate: () => undefined })) },
      });
    }
    this.persisted = { version: state.version, publishedAt: state.publishedAt };
    this.dirty = true;
    this.commit();
    return this.entries.size;
  }

  /** New content for a file. Returns false only for the same bytes as last time (nothing was
   *  checked); otherwise the file was checked, valid or not, and fileState() says which. */
  update(file: string, text: string): boolean {
    const hash = contentHash(text);
    const entry = this.entries.get(file);
    // Same bytes as last time (editors and chokidar repeat events). Entries loaded from the
    // state file are parsed once more to get their fields' positions back.
    if (entry && entry.state !== 'deleted' && entry.contentHash === hash && !entry.fromState) return false;
    let check;
    try {
      check = checkFile(file, text, this.limits);
    } catch (err) {
      const t = messageTypes.InternalError;
      check = { file, accepted: false, resources: [], messages: [{ code: t.code, level: t.level, message: `Internal error: ${(err as Error).message}`, file }] };
    }
    const next: FileEntry = { file, state: check.accepted ? 'valid' : 'invalid', contentHash: hash, messages: check.messages, updatedAt: this.now().toISOString() };
    if (check.accepted) next.lastGood = { contentHash: hash, resources: check.resources };
    else if (entry?.lastGood && entry.state !== 'deleted') next.lastGood = entry.lastGood;
    this.entries.set(file, next);
    this.dirty = true;
    return true;
  }

  /** The file could not be read (too large, permissions): invalid, last good kept. */
  reject(file: string, type: MessageType, message: string): void {
    const entry = this.entries.get(file);
    this.entries.set(file, {
      file, state: 'invalid', messages: [{ code: type.code, level: type.level, message, file }], updatedAt: this.now().toISOString(),
      ...(entry?.lastGood && entry.state !== 'deleted' ? { lastGood: entry.lastGood } : {}),
    });
    this.dirty = true;
  }

  /** The file is gone: its resources leave the snapshot. */
  remove(file: string): boolean {
    const entry = this.entries.get(file);
    if (!entry || entry.state === 'deleted') return false;
    this.entries.set(file, { file, state: 'deleted', messages: [], updatedAt: this.now().toISOString() });
    this.dirty = true;
    return true;
  }

  /** One file's state, cheaply (status() builds the whole report). */
  fileState(file: string): { state: FileState; servingLastGood: boolean; errors: AnalysisMessage[] } | undefined {
    const e = this.entries.get(file);
    if (!e) return undefined;
    return { state: e.state, servingLastGood: e.state === 'invalid' && !!e.lastGood, errors: e.messages.filter((m) => m.level === 'Error') };
  }

  /** Files present (not deleted), relative to the config folder. */
  files(): string[] {
    return [...this.entries.values()].filter((e) => e.state !== 'deleted').map((e) => e.file).sort();
  }

  private served(except?: string): { file: string; resources: LocatedResource[] }[] {
    return [...this.entries.values()]
      .filter((e) => e.state !== 'deleted' && e.lastGood && e.file !== except)
      .map((e) => ({ file: e.file, resources: e.lastGood!.resources }));
  }

  /** Rebuilds the snapshot after updates. `changed`: a new version to publish. */
  commit(): { version: string; changed: boolean } {
    if (!this.dirty) return { version: this.current.version, changed: false };
    this.dirty = false;
    const merged = mergeFiles(this.served());
    const resources = merged.resources.map((r) => r.resource);
    this.crossMessages = [...merged.messages, ...runAnalyzers(resources, locatorOf(merged.resources))];
    const version = snapshotVersion(resources);
    const changed = version !== this.current.version;
    if (changed) {
      const publishedAt = this.persisted?.version === version ? this.persisted.publishedAt : this.now().toISOString();
      this.current = { version, publishedAt, resources };
    } else {
      this.current = { ...this.current, resources };
    }
    this.persist();
    return { version, changed };
  }

  snapshot(): ConfigSnapshot {
    return this.current;
  }

  private persist(): void {
    const path = this.stateFile;
    if (!path) return;
    const state: PersistedState = {
      format: 1,
      version: this.current.version,
      publishedAt: this.current.publishedAt,
      files: this.served()
        .sort((a, b) => (a.file < b.file ? -1 : 1))
        .map((f) => ({ file: f.file, contentHash: this.entries.get(f.file)!.lastGood!.contentHash, resources: f.resources.map((r) => r.resource) })),
    };
    try {
      mkdirSync(this.opts.stateDir!, { recursive: true });
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(state));
      renameSync(tmp, path);
      this.persisted = { version: state.version, publishedAt: state.publishedAt };
    } catch (err) {
      this.opts.log?.error({ err, path }, 'could not persist galley state; the snapshot is still served');
    }
  }

  status(): StatusReport {
    const byFile = new Map<string, AnalysisMessage[]>();
    for (const m of this.crossMessages) {
      if (!m.file) continue;
      let list = byFile.get(m.file);
      if (!list) byFile.set(m.file, (list = []));
      list.push(m);
    }
    const files: FileStatus[] = [...this.entries.values()]
      .sort((a, b) => (a.file < b.file ? -1 : 1))
      .map((e) => ({
        file: e.file,
        state: e.state,
        ...(e.contentHash && e.state !== 'deleted' ? { contentHash: e.contentHash } : {}),
        resources: e.state === 'deleted' ? [] : (e.lastGood?.resources ?? []).map((r) => resourceName(r.resource)),
        servingLastGood: e.state === 'invalid' && !!e.lastGood,
        messages: sortMessages([...e.messages, ...(e.state === 'deleted' ? [] : byFile.get(e.file) ?? [])]),
        updatedAt: e.updatedAt,
      }));
    const messages = sortMessages([...[...this.entries.values()].flatMap((e) => e.messages), ...this.crossMessages]);
    const byResource = new Map<string, AnalysisMessage[]>();
    for (const m of messages) {
      if (!m.resource) continue;
      let list = byResource.get(m.resource);
      if (!list) byResource.set(m.resource, (list = []));
      list.push(m);
    }
    const resources = this.current.resources.map((r): ResourceStatus => {
      const name = resourceName(r);
      // A message about a same-named definition in another file is not about this one.
      const mine = (byResource.get(name) ?? []).filter((m) => !m.file || m.file === r.source?.file);
      return { resource: name, apiVersion: r.apiVersion, ...(r.source ? { file: r.source.file, line: r.source.line } : {}), messages: mine };
    });
    return { version: this.current.version, publishedAt: this.current.publishedAt, files, resources, messages };
  }

  /** What galley would say about this content as `file`, changing nothing. */
  preview(file: string, text: string): { accepted: boolean; messages: AnalysisMessage[] } {
    const check = checkFile(file, text, this.limits);
    if (!check.accepted) return { accepted: false, messages: check.messages };
    const merged = mergeFiles([...this.served(file), { file, resources: check.resources }]);
    const cross = [...merged.messages, ...runAnalyzers(merged.resources.map((r) => r.resource), locatorOf(merged.resources))];
    // Also say when this file would push another file's resource out (or be pushed out).
    const mine = new Set(check.resources.map((r) => resourceName(r.resource)));
    const relevant = cross.filter((m) => m.file === file || (m.code === messageTypes.DuplicateResource.code && m.resource && mine.has(m.resource)));
    return { accepted: true, messages: sortMessages([...check.messages, ...relevant]) };
  }
}
