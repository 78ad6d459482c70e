// Swarm mode's registry: the tasks of every service whose container spec carries the mesh
// labels (compose's `labels:`, which stack deploy puts on the service's containers), read
// through a manager's API, so tasks on every node are seen. The address is the task's
// address on the mesh network. Docker's event API has no task events: service events (create,
// update = scale, remove) and this node's container events trigger a resync, and a poll
// catches tasks that start or stop on other nodes. A resync that finds nothing new stays quiet.
import type { Logger, RegistrySnapshot } from '#api';
import { mergeSnapshots } from './aggregate.js';
import { convertContainer, type ContainerConversion, type ContainerJson } from './docker-convert.js';
import { DockerRegistry, dockerApiFromSocket, dockerClient, type DockerApi } from './docker.js';
import { JsonObjectSplitter } from './json-stream.js';
import { ChangeListeners, type ServiceRegistry } from './service-registry.js';

/** The part of a Swarm task (GET /tasks) the adapter reads. */
export interface SwarmTask {
  ID: string;
  ServiceID?: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; ContainerStatus?: { ContainerID?: string } | null } | null;
  Spec?: { ContainerSpec?: { Hostname?: string; Labels?: Record<string, string> | null } | null } | null;
  NetworksAttachments?: { Network?: { ID?: string; Spec?: { Name?: string } }; Addresses?: string[] | null }[] | null;
}

/** The part of a Swarm service (GET /services) the adapter reads. */
export interface SwarmService {
  ID: string;
  Spec?: { Name?: string; TaskTemplate?: { ContainerSpec?: { Labels?: Record<string, string> | null } | null } | null } | null;
}

export interface SwarmInfo {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } | null;
}

/** The slice of dockerode this adapter uses, so tests can drive it with a fake engine. */
export interface SwarmApi {
  info(): Promise<SwarmInfo>;
  listServices(opts?: { filters?: Record<string, string[]> }): Promise<SwarmService[]>;
  listTasks(opts?: { filters?: Record<string, string[]> }): Promise<SwarmTask[]>;
  getEvents(opts: { filters?: Record<string, string[]> }): Promise<NodeJS.ReadableStream>;
}

export function swarmApiFromSocket(socketPath: string): SwarmApi {
  const docker = dockerClient(socketPath);
  return {
    info: () => docker.info() as Promise<SwarmInfo>,
    listServices: (opts) => docker.listServices(opts ?? {}) as Promise<SwarmService[]>,
    listTasks: (opts) => docker.listTasks(opts ?? {}) as Promise<SwarmTask[]>,
    getEvents: (opts) => docker.getEvents(opts),
  };
}

export type DockerRegistryMode = 'docker' | 'swarm' | 'auto';

const meshLabels = (labels: Record<string, string> | null | undefined) => Boolean(labels?.['mesh.workload']);

/** auto: swarm when the engine is an active Swarm manager running services with the mesh
 *  labels; docker otherwise (also when the engine cannot be asked: compose is the default). */
export async function chooseDockerRegistry(mode: DockerRegistryMode, api: SwarmApi, log: Logger): Promise<'docker' | 'swarm'> {
  if (mode !== 'auto') return mode;
  try {
    const info = await api.info();
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) return 'docker';
    const services = await api.listServices();
    return services.some((s) => meshLabels(s.Spec?.TaskTemplate?.ContainerSpec?.Labels)) ? 'swarm' : 'docker';
  } catch (err) {
    log.warn({ code: 'PILOT_REGISTRY_AUTO', err: (err as Error).message }, 'could not ask the engine whether it is a Swarm manager; reading containers');
    return 'docker';
  }
}

/** A running task as the container JSON docker-convert reads: same labels, the task's address
 *  on each network, and the hostname its sidecar puts in its proxy id (the container's short id
 *  unless the service sets one). */
export function taskAsContainer(task: SwarmTask, serviceName: string): ContainerJson {
  const spec = task.Spec?.ContainerSpec ?? {};
  const containerId = task.Status?.ContainerStatus?.ContainerID ?? '';
  const networks: Record<string, { IPAddress?: string }> = {};
  for (const a of task.NetworksAttachments ?? []) {
    const name = a.Network?.Spec?.Name;
    const ip = a.Addresses?.[0]?.split('/')[0];
    if (name && ip) networks[name] = { IPAddress: ip };
  }
  return {
    Id: task.ID,
    Name: `${serviceName}.${task.Slot ?? task.NodeID ?? task.ID.slice(0, 12)}`,
    Config: { Hostname: spec.Hostname || containerId.slice(0, 12) || undefined, Labels: spec.Labels ?? {} },
    State: { Running: task.Status?.State === 'running' && task.DesiredState !== 'shutdown' },
    NetworkSettings: { Networks: networks },
  };
}

/** Tasks of mesh-labelled services that are running (and meant to be) -> conversions. */
export function convertTasks(tasks: SwarmTask[], services: SwarmService[], network?: string): ContainerConversion[] {
  const names = new Map(services.map((s) => [s.ID, s.Spec?.Name ?? s.ID.slice(0, 12)]));
  const out: ContainerConversion[] = [];
  for (const t of tasks) {
    if (!meshLabels(t.Spec?.ContainerSpec?.Labels)) continue;
    if (t.Status?.State !== 'running' || (t.DesiredState && t.DesiredState !== 'running')) continue;
    const conv = convertContainer(taskAsContainer(t, names.get(t.ServiceID ?? '') ?? 'task'), { network });
    if (conv.instances.length + conv.services.length > 0 || conv.problems.length > 0) out.push(conv);
  }
  return out.sort((a, b) => a.containerId.localeCompare(b.containerId));
}

export interface SwarmRegistryOptions {
  swarm: SwarmApi;
  network?: string;
  log: Logger;
  /** Resync period: tasks on other nodes send no events here. */
  pollMs?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export class SwarmRegistry implements ServiceRegistry {
  readonly name = 'swarm';
  private readonly listeners = new ChangeListeners();
  private tasks: ContainerConversion[] = [];
  private key = '';
  private cached: RegistrySnapshot | undefined;
  private stream: NodeJS.ReadableStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  private resyncing: Promise<void> | undefined;
  private again = false;
  private readonly firstSync: Promise<void>;
  private markSynced: () => void = () => {};
  /** Label problems already logged: a poll every 2 s must not repeat them. */
  private readonly reportedProblems = new Set<string>();
  connected = false;
  lastError: string | undefined;
  resyncs = 0;

  constructor(private readonly opts: SwarmRegistryOptions) {
    this.backoffMs = opts.backoff?.initialMs ?? 250;
    this.firstSync = new Promise((r) => { this.markSynced = r; });
  }

  snapshot(): RegistrySnapshot {
    this.cached ??= mergeSnapshots(this.tasks);
    return this.cached;
  }

  onChange(cb: () => void): () => void {
    return this.listeners.add(cb);
  }

  async start(): Promise<void> {
    this.stopped = false;
    void this.connect();
    const pollMs = this.opts.pollMs ?? 2000;
    if (pollMs > 0) {
      this.pollTimer = setInterval(() => { if (this.connected) void this.resync().catch((err: Error) => this.resyncFailed(err)); }, pollMs);
      this.pollTimer.unref();
    }
  }

  /** Resolves once the registry has listed tasks (or stop). */
  synced(): Promise<void> {
    return this.firstSync;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.retryTimer = undefined;
    this.pollTimer = undefined;
    this.dropStream();
    this.markSynced();
    // A resync still in flight drops its answer (listOnce checks `stopped`); not awaited, as
    // an engine that hangs must not hang pilot's shutdown.
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
      const stream = await this.opts.swarm.getEvents({ filters: { type: ['service', 'container'] } });
      if (this.stopped) { (stream as { destroy?: () => void }).destroy?.(); return; }
      this.stream = stream;
      const splitter = new JsonObjectSplitter(() => {});
      stream.on('data', (chunk: Buffer | string) => {
        // Any service or container event may change the task list: one resync covers a burst.
        if (splitter.push(chunk).length > 0) void this.resync().catch((err: Error) => this.resyncFailed(err));
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
      this.retry(`swarm unavailable: ${(err as Error).message}`);
    }
  }

  private retry(why: string): void {
    if (this.stopped || this.retryTimer) return;
    const repeated = this.lastError === why;
    this.lastError = why;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoff?.maxMs ?? 10_000);
    this.opts.log[repeated ? 'debug' : 'warn']({ code: 'PILOT_SWARM_RECONNECT', retryInMs: wait }, why);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, wait);
    this.retryTimer.unref();
  }

  /** The view stays as it was; the next event or poll tries again. */
  private resyncFailed(err: Error): void {
    this.lastError = `swarm resync failed: ${err.message}`;
    this.opts.log.debug({ code: 'PILOT_SWARM_RESYNC', err: err.message }, 'swarm resync failed; keeping the last view');
  }

  /** Lists services and tasks and replaces the view; one at a time, a request during one runs once after it. */
  resync(): Promise<void> {
    if (this.resyncing) {
      this.again = true;
      return this.resyncing;
    }
    this.resyncing = (async () => {
      try {
        do {
          this.again = false;
          await this.listOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.resyncing = undefined;
      }
    })();
    return this.resyncing;
  }

  private async listOnce(): Promise<void> {
    const [services, tasks] = await Promise.all([
      this.opts.swarm.listServices(),
      this.opts.swarm.listTasks({ filters: { 'desired-state': ['running'] } }),
    ]);
    if (this.stopped) return;
    this.resyncs++;
    const fresh = convertTasks(tasks, services, this.opts.network || undefined);
    this.lastError = undefined;
    if (this.reportedProblems.size > 1000) this.reportedProblems.clear();
    for (const c of fresh) {
      for (const p of c.problems) {
        if (this.reportedProblems.has(p)) continue;
        this.reportedProblems.add(p);
        this.opts.log.warn({ code: 'PILOT_SWARM_LABELS', task: c.containerId.slice(0, 12) }, p);
      }
    }
    const key = JSON.stringify(fresh.map((c) => [c.containerId, c.services, c.instances]));
    if (key === this.key) return;
    this.key = key;
    this.tasks = fresh;
    this.cached = undefined;
    this.listeners.emit();
  }
}

/** The registry behind MESH_REGISTRIES=docker: this engine's containers, or the Swarm's tasks
 *  (MESH_REGISTRY=docker|swarm|auto). */
export async function buildDockerRegistry(
  opts: { mode?: DockerRegistryMode; socket: string; network?: string; pollMs?: number },
  deps: { log: Logger; docker?: DockerApi; swarm?: SwarmApi },
): Promise<DockerRegistry | SwarmRegistry> {
  const mode = opts.mode ?? 'docker';
  const swarm = deps.swarm ?? (mode === 'docker' ? undefined : swarmApiFromSocket(opts.socket));
  const kind = swarm ? await chooseDockerRegistry(mode, swarm, deps.log) : 'docker';
  deps.log.info({ mode, registry: kind }, 'docker registry reads ' + (kind === 'swarm' ? 'Swarm tasks' : 'containers'));
  if (kind === 'swarm') return new SwarmRegistry({ swarm: swarm!, network: opts.network, log: deps.log.child({ registry: 'swarm' }), pollMs: opts.pollMs });
  return new DockerRegistry({ docker: deps.docker ?? dockerApiFromSocket(opts.socket), network: opts.network, log: deps.log.child({ registry: 'docker' }) });
}
