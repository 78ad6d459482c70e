// The Swarm adapter against a fake engine: tasks of mesh-labelled services become endpoints at
// their mesh-network address; scaling a service adds and removes endpoints (service events and
// the poll), a lost event stream reconnects, and auto mode picks swarm only on a manager
// running mesh services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '#api';
import {
  SwarmRegistry, buildDockerRegistry, chooseDockerRegistry, convertTasks, taskAsContainer,
  type SwarmApi, type SwarmInfo, type SwarmService, type SwarmTask,
} from '../../../pilot/src/registry/swarm.js';
import { DockerRegistry } from '../../../pilot/src/registry/docker.js';
import { waitFor } from '../../support/wait.js';

const log = createLogger('test', 'silent');

const reviewsLabels = {
  app: 'reviews', version: 'v1', 'mesh.workload': 'reviews-v1', 'mesh.service': 'reviews',
  'mesh.ports': 'http:9080', 'mesh.serviceaccount': 'bookinfo-reviews', 'mesh.namespace': 'default',
  'com.docker.stack.namespace': 'mesh',
};

function service(id: string, name: string, labels: Record<string, string> | undefined): SwarmService {
  return { ID: id, Spec: { Name: name, TaskTemplate: { ContainerSpec: { Labels: labels ?? null } } } };
}

let n = 0;
function task(serviceId: string, labels: Record<string, string>, ip: string, opts: { state?: string; desired?: string; network?: string } = {}): SwarmTask {
  n++;
  const cid = `${n.toString(16).padStart(4, '0')}cafe0000beef0000`;
  return {
    ID: `task${n}`, ServiceID: serviceId, Slot: n, NodeID: 'node1',
    DesiredState: opts.desired ?? 'running',
    Status: { State: opts.state ?? 'running', ContainerStatus: { ContainerID: cid } },
    Spec: { ContainerSpec: { Labels: labels } },
    NetworksAttachments: [
      { Network: { Spec: { Name: 'ingress' } }, Addresses: ['10.0.0.9/24'] },
      { Network: { Spec: { Name: opts.network ?? 'mesh_mesh' } }, Addresses: [`${ip}/24`] },
    ],
  };
}

class FakeSwarm implements SwarmApi {
  info_: SwarmInfo = { Swarm: { LocalNodeState: 'active', ControlAvailable: true } };
  services: SwarmService[] = [];
  tasks: SwarmTask[] = [];
  streams: PassThrough[] = [];
  lists = 0;
  down = false;
  async info() {
    if (this.down) throw new Error('connect ENOENT /var/run/docker.sock');
    return this.info_;
  }
  async listServices() {
    if (this.down) throw new Error('connect ENOENT /var/run/docker.sock');
    return structuredClone(this.services);
  }
  async listTasks(opts?: { filters?: Record<string, string[]> }) {
    if (this.down) throw new Error('connect ENOENT /var/run/docker.sock');
    this.lists++;
    const desired = opts?.filters?.['desired-state'];
    return structuredClone(this.tasks.filter((t) => !desired || desired.includes(t.DesiredState ?? '')));
  }
  async getEvents() {
    if (this.down) throw new Error('connect ENOENT /var/run/docker.sock');
    const s = new PassThrough();
    this.streams.push(s);
    return s;
  }
  emit(ev: object) {
    this.streams[this.streams.length - 1]!.write(JSON.stringify(ev));
  }
}

test('a running task becomes an endpoint at its mesh-network address with the sidecar proxy id', () => {
  const t = task('svc1', reviewsLabels, '10.0.2.7');
  const c = taskAsContainer(t, 'mesh_reviews-v1');
  assert.equal(c.Config?.Hostname, t.Status!.ContainerStatus!.ContainerID!.slice(0, 12));
  const [conv] = convertTasks([t], [service('svc1', 'mesh_reviews-v1', reviewsLabels)], 'mesh');
  assert.ok(conv);
  assert.deepEqual(conv.problems, []);
  assert.equal(conv.instances.length, 1);
  const i = conv.instances[0]!;
  assert.equal(i.address, '10.0.2.7');
  assert.equal(i.port, 15006);
  assert.equal(i.servicePort, 9080);
  assert.equal(i.service, 'reviews.default.svc.cluster.local');
  assert.equal(i.proxyId, `reviews-v1-${t.Status!.ContainerStatus!.ContainerID!.slice(0, 12)}.default`);
  assert.deepEqual(i.labels, { app: 'reviews', version: 'v1' });
  assert.equal(conv.services[0]!.hostname, 'reviews.default.svc.cluster.local');
});

test('tasks not running, shutting down, unlabelled, or off the mesh network give no endpoint', () => {
  const svc = [service('svc1', 'mesh_reviews-v1', reviewsLabels)];
  const convs = convertTasks([
    task('svc1', reviewsLabels, '10.0.2.8', { state: 'starting' }),
    task('svc1', reviewsLabels, '10.0.2.9', { desired: 'shutdown' }),
    task('svc2', { app: 'other' }, '10.0.2.10'),
    task('svc1', reviewsLabels, '10.0.9.1', { network: 'elsewhere' }),
  ], svc, 'mesh');
  assert.deepEqual(convs.flatMap((c) => c.instances), []);
  // The task off the mesh network is reported, naming it.
  assert.match(convs.flatMap((c) => c.problems).join('\n'), /mesh_reviews-v1\.\d+: no IP address on network mesh/);
});

test('scaling a service adds and removes endpoints; a poll catches tasks that send no event', async () => {
  const engine = new FakeSwarm();
  engine.services = [service('svc1', 'mesh_reviews-v1', reviewsLabels)];
  engine.tasks = [task('svc1', reviewsLabels, '10.0.2.11')];
  const reg = new SwarmRegistry({ swarm: engine, network: 'mesh', log, pollMs: 0, backoff: { initialMs: 10, maxMs: 50 } });
  let changes = 0;
  reg.onChange(() => changes++);
  await reg.start();
  await reg.synced();
  assert.deepEqual(reg.snapshot().instances.map((i) => i.address), ['10.0.2.11']);

  // docker service scale mesh_reviews-v1=3: a service update event, then the tasks run.
  engine.tasks.push(task('svc1', reviewsLabels, '10.0.2.12'), task('svc1', reviewsLabels, '10.0.2.13'));
  engine.emit({ Type: 'service', Action: 'update', Actor: { ID: 'svc1' } });
  await waitFor(() => reg.snapshot().instances.length === 3, { what: 'scaled up to 3 endpoints' });
  assert.deepEqual(reg.snapshot().instances.map((i) => i.address).sort(), ['10.0.2.11', '10.0.2.12', '10.0.2.13']);

  // Scale down to 1: the removed tasks' desired state becomes shutdown.
  engine.tasks[1]!.DesiredState = 'shutdown';
  engine.tasks[2]!.DesiredState = 'shutdown';
  engine.emit({ Type: 'container', Action: 'die', Actor: { ID: 'abc' } });
  await waitFor(() => reg.snapshot().instances.length === 1, { what: 'scaled down to 1 endpoint' });

  // A resync that finds nothing new stays quiet (pilot would recompute every proxy's config).
  const quiet = changes;
  await reg.resync();
  await reg.resync();
  assert.equal(changes, quiet);

  // A task on another node: no event reaches this one; the next resync (the poll) finds it.
  engine.tasks.push(task('svc1', reviewsLabels, '10.0.2.14'));
  await reg.resync();
  assert.equal(changes, quiet + 1);
  assert.deepEqual(reg.snapshot().instances.map((i) => i.address).sort(), ['10.0.2.11', '10.0.2.14']);
  await reg.stop();
});

test('the poll resyncs on its own', async () => {
  const engine = new FakeSwarm();
  engine.services = [service('svc1', 'mesh_reviews-v1', reviewsLabels)];
  const reg = new SwarmRegistry({ swarm: engine, network: 'mesh', log, pollMs: 20 });
  await reg.start();
  await reg.synced();
  assert.equal(reg.snapshot().instances.length, 0);
  engine.tasks.push(task('svc1', reviewsLabels, '10.0.2.21'));
  await waitFor(() => reg.snapshot().instances.length === 1, { what: 'polled task' });
  await reg.stop();
});

test('a lost event stream reconnects and resyncs; the engine being away is reported', async () => {
  const engine = new FakeSwarm();
  engine.services = [service('svc1', 'mesh_reviews-v1', reviewsLabels)];
  engine.tasks = [task('svc1', reviewsLabels, '10.0.2.31')];
  const reg = new SwarmRegistry({ swarm: engine, network: 'mesh', log, pollMs: 0, backoff: { initialMs: 10, maxMs: 50 } });
  await reg.start();
  await reg.synced();
  engine.down = true;
  engine.streams[0]!.end();
  await waitFor(() => reg.lastError !== undefined, { what: 'stream loss noticed' });
  assert.equal(reg.connected, false);
  engine.tasks.push(task('svc1', reviewsLabels, '10.0.2.32'));
  engine.down = false;
  await waitFor(() => reg.snapshot().instances.length === 2, { what: 'resync after reconnect' });
  assert.equal(reg.connected, true);
  assert.ok(engine.streams.length >= 2);
  await reg.stop();
});

test('auto mode: swarm on an active manager with mesh services, docker otherwise', async () => {
  const engine = new FakeSwarm();
  engine.services = [service('svc1', 'mesh_reviews-v1', reviewsLabels)];
  assert.equal(await chooseDockerRegistry('auto', engine, log), 'swarm');
  assert.equal(await chooseDockerRegistry('docker', engine, log), 'docker');
  engine.services = [service('svc2', 'other', { app: 'x' })];
  assert.equal(await chooseDockerRegistry('auto', engine, log), 'docker');
  engine.services = [service('svc1', 'mesh_reviews-v1', reviewsLabels)];
  engine.info_ = { Swarm: { LocalNodeState: 'active', ControlAvailable: false } };
  assert.equal(await chooseDockerRegistry('auto', engine, log), 'docker', 'a worker cannot list tasks');
  engine.info_ = { Swarm: { LocalNodeState: 'inactive' } };
  assert.equal(await chooseDockerRegistry('auto', engine, log), 'docker');
  engine.down = true;
  assert.equal(await chooseDockerRegistry('auto', engine, log), 'docker', 'engine unreachable: compose default');
  assert.equal(await chooseDockerRegistry('swarm', engine, log), 'swarm', 'an explicit choice is kept');

  engine.down = false;
  engine.info_ = { Swarm: { LocalNodeState: 'active', ControlAvailable: true } };
  const built = await buildDockerRegistry({ mode: 'auto', socket: '/nonexistent.sock' }, { log, swarm: engine });
  assert.ok(built instanceof SwarmRegistry);
  const plain = await buildDockerRegistry({ mode: 'docker', socket: '/nonexistent.sock' }, { log, swarm: engine });
  assert.ok(plain instanceof DockerRegistry);
});
