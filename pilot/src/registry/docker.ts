// Compose mode's registry: app containers labelled mesh.workload, read through the Docker
// engine API. Lists once, then follows container events; a container that dies leaves at
// once. When the event stream ends or fails (daemon restart) it reconnects with backoff
// and resyncs by listing again, since events sent while away are lost.
import { createRequire } from 'node:module';
import type Docker from 'dockerode';
import type { Logger, RegistrySnapshot } from '#api';
import { mergeSnapshots } from './aggregate.js';
import { convertContainer, type ContainerConversion, type ContainerJson } from './docker-convert.js';
import { JsonObjectSplitter } from './json-stream.js';
import { ChangeListeners, type ServiceRegistry } from './service-registry.js';

/** The slice of dockerode this adapter uses, so tests can drive it with a fake engine. */
export interface DockerApi {
  listContainers(opts: { all?: boolean; filters?: Record<string, string[]> }): Promise<{ Id: string }[]>;
  getContainer(id: string): { inspect(): Promise<ContainerJson> };
  getEvents(opts: { filters?: Record<string, string[]> }): Promise<NodeJS.ReadableStream>;
}

// dockerode costs ~0.45 s of CPU to load; process mode (announce registry only) never needs it.
const require = createRequire(import.meta.url);

/** dockerode, loaded on first use (the Compose and Swarm adapters share this). */
export function dockerClient(socketPath: string): Docker {
  const DockerClass = require('dockerode') as typeof Docker;
  return new DockerClass({ socketPath });
}

export function dockerApiFromSocket(socketPath: string): DockerApi {
  const docker = dockerClient(socketPath);
  return {
    listContainers: (opts) => docker.listContainers(opts),
    getContainer: (id) => ({ inspect: () => docker.getContainer(id).inspect() as Promise<ContainerJson> }),
    getEvents: (opts) => docker.getEvents(opts),
  };
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string };
}

const goneActions = new Set(['die', 'stop', 'kill', 'destroy']);
const LABEL_FILTER = { label: ['mesh.workload'] };

export interface DockerRegistryOptions {
  docker: DockerApi;
  network?: string;
  log: Logger;
  backoff?: { initialMs: number; maxMs: number };
}

export class DockerRegistry implements ServiceRegistry {
  readonly name = 'docker';
  private readonly listeners = new ChangeListeners();
  private readonly containers = new Map<string, ContainerConversion>();
  /** Event sequence per container: a resync or inspect started before a newer event must not overwrite it. */
  private readonly touched = new Map<string, number>();
  private seq = 0;
  private cached: RegistrySnapshot | undefined;
  private stream: NodeJS.ReadableStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  /** Resolves when the first successful sync completes (or stop). */
  private readonly firstSync: Promise<void>;
  private markSynced: () => void = () => {};
  connected = false;
  lastError: string | undefined;
  /** Full lists (start and each reconnect) and container events applied: tests and
   *  registryz tell an event-driven change from one a resync found. */
  resyncs = 0;
  events = 0;

  constructor(private readonly opts: DockerRegistryOptions) {
    this.backoffMs = opts.backoff?.initialMs ?? 250;
    this.firstSync = new Promise((r) => { this.markSynced = r; });
  }

  snapshot(): RegistrySnapshot {
    this.cached ??= mergeSnapshots([...this.containers.values()]);
    return this.cached;
  }

  onChange(cb: () => void): () => void {
    return this.listeners.add(cb);
  }

  private changed(): void {
    this.cached = undefined;
    this.listeners.emit();
  }

  /** Starts following Docker; does not wait for the engine (it may come later). */
  async start(): Promise<void> {
    this.stopped = false;
    void this.connect();
  }

  /** For tests and readiness: resolves once the registry has listed containers. */
  synced(): Promise<void> {
    return this.firstSync;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.dropStream();
    this.markSynced();
  }

  private dropStream(): void {
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.stream = undefined;
    if (s) {
      s.removeAllListeners();
      s.on('error', () => {});
      s.destroy?.();
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      // Follow events first, then list: nothing that happens in between is missed.
      const stream = await this.opts.docker.getEvents({ filters: { type: ['container'], ...LABEL_FILTER } });
      if (this.stopped) { (stream as { destroy?: () => void }).destroy?.(); return; }
      this.stream = stream;
      const splitter = new JsonObjectSplitter((text) => this.opts.log.warn({ text: text.slice(0, 200) }, 'docker event is not JSON; skipped'));
      stream.on('data', (chunk: Buffer | string) => {
        for (const ev of splitter.push(chunk)) this.onEvent(ev as DockerEvent);
      });
      const lost = (why: string) => () => {
        if (this.stream !== stream) return;
        this.connected = false;
        this.dropStream();
        this.retry(why);
      };
      stream.on('end', lost('docker event stream ended'));
      stream.on('close', lost('docker event stream closed'));
      stream.on('error', (err: Error) => lost(`docker event stream failed: ${err.message}`)());
      await this.resync();
      if (this.stream !== stream) return;
      this.connected = true;
      this.lastError = undefined;
      this.backoffMs = this.opts.backoff?.initialMs ?? 250;
      this.markSynced();
    } catch (err) {
      this.dropStream();
      this.retry(`docker unavailable: ${(err as Error).message}`);
    }
  }

  private retry(why: string): void {
    if (this.stopped || this.retryTimer) return;
    // Loud once per distinct problem, quiet while the same one repeats.
    const repeated = this.lastError === why;
    this.lastError = why;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoff?.maxMs ?? 10_000);
    this.opts.log[repeated ? 'debug' : 'warn']({ code: 'PILOT_DOCKER_RECONNECT', retryInMs: wait }, why);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, wait);
    this.retryTimer.unref();
  }

  /** Lists every mesh container again and replaces the view, keeping newer event-driven state. */
  async resync(): Promise<void> {
    const startedAt = this.seq;
    this.resyncs++;
    const list = await this.opts.docker.listContainers({ all: false, filters: LABEL_FILTER });
    const fresh = new Map<string, ContainerConversion>();
    await Promise.all(list.map(async (c) => {
      const conv = await this.inspect(c.Id);
      if (conv) fresh.set(c.Id, conv);
    }));
    const newerThanResync = (id: string) => (this.touched.get(id) ?? 0) > startedAt;
    for (const id of [...this.containers.keys()]) {
      if (!fresh.has(id) && !newerThanResync(id)) this.containers.delete(id);
    }
    for (const [id, conv] of fresh) if (!newerThanResync(id)) this.containers.set(id, conv);
    this.changed();
  }

  private async inspect(id: string): Promise<ContainerConversion | undefined> {
    try {
      const conv = convertContainer(await this.opts.docker.getContainer(id).inspect(), { network: this.opts.network || undefined });
      for (const p of conv.problems) this.opts.log.warn({ code: 'PILOT_DOCKER_LABELS', container: id.slice(0, 12) }, p);
      return conv;
    } catch (err) {
      // Gone between list and inspect: treat as absent.
      this.opts.log.debug({ container: id.slice(0, 12), err: (err as Error).message }, 'inspect failed');
      return undefined;
    }
  }

  private onEvent(ev: DockerEvent): void {
    if (ev.Type && ev.Type !== 'container') return;
    const id = ev.Actor?.ID ?? ev.id;
    const action = (ev.Action ?? ev.status ?? '').split(':')[0]!.trim();
    if (!id || !action) return;
    this.events++;
    if (goneActions.has(action)) {
      this.touched.set(id, ++this.seq);
      if (this.containers.delete(id)) this.changed();
      return;
    }
    if (action !== 'start' && action !== 'health_status') return;
    const mySeq = ++this.seq;
    this.touched.set(id, mySeq);
    void this.inspect(id).then((conv) => {
      if (this.stopped || this.touched.get(id) !== mySeq) return;
      if (conv && conv.instances.length + conv.services.length > 0) this.containers.set(id, conv);
      else this.containers.delete(id);
      this.changed();
    });
  }
}
