// The Docker adapter against a fake engine: events remove dead containers at once, and a
// lost event stream reconnects and resyncs by listing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '#api';
import { DockerRegistry, type DockerApi } from '../../../pilot/src/registry/docker.js';
import type { ContainerJson } from '../../../pilot/src/registry/docker-convert.js';
import { fixture } from './fixtures.js';
import { waitFor } from '../../support/wait.js';

class FakeEngine implements DockerApi {
  containers = new Map<string, ContainerJson>();
  streams: PassThrough[] = [];
  lists = 0;
  down = false;
  async listContainers() {
    if (this.down) throw new Error('connect ENOENT /var/run/docker.sock');
    this.lists++;
    return [...this.containers.values()].filter((c) => c.State?.Running).map((c) => ({ Id: c.Id }));
  }
  getContainer(id: string) {
    return { inspect: async () => { const c = this.containers.get(id); if (!c) throw new Error('no such container'); return structuredClone(c); } };
  }
  async getEvents() {
    if (this.down) throw new Error('connect ENOENT /var/run/docker.sock');
    const s = new PassThrough();
    this.streams.push(s);
    return s;
  }
  emit(ev: object, split = false) {
    const text = JSON.stringify(ev);
    const s = this.streams[this.streams.length - 1]!;
    if (split) { s.write(text.slice(0, 10)); s.write(text.slice(10)); } else s.write(text);
  }
}

const log = createLogger('test', 'silent');

test('lists at start, follows start/die events, and resyncs after the stream ends', async () => {
  const engine = new FakeEngine();
  const reviews = fixture<ContainerJson>('reviews-v1-healthy');
  engine.containers.set(reviews.Id, reviews);
  const reg = new DockerRegistry({ docker: engine, network: 'mesh', log, backoff: { initialMs: 10, maxMs: 50 } });
  let changes = 0;
  reg.onChange(() => changes++);
  await reg.start();
  await reg.synced();
  assert.deepEqual(reg.snapshot().instances.map((i) => i.workload), ['reviews-v1']);

  // A new container starts (event split across chunks): it appears once Docker says healthy.
  const ratings = fixture<ContainerJson>('ratings-starting');
  engine.containers.set(ratings.Id, ratings);
  engine.emit({ Type: 'container', Action: 'start', Actor: { ID: ratings.Id } }, true);
  await waitFor(() => reg.snapshot().instances.some((i) => i.workload === 'ratings-v1'), { what: 'ratings listed' });
  assert.ok(reg.snapshot().instances.filter((i) => i.workload === 'ratings-v1').every((i) => !i.healthy));
  engine.containers.get(ratings.Id)!.State!.Health = { Status: 'healthy' };
  engine.emit({ Type: 'container', Action: 'health_status: healthy', Actor: { ID: ratings.Id } });
  await waitFor(() => reg.snapshot().instances.some((i) => i.workload === 'ratings-v1' && i.healthy), { what: 'ratings healthy' });

  // A container that dies leaves at once (synchronously with the event).
  const before = changes;
  engine.containers.get(reviews.Id)!.State!.Running = false;
  engine.emit({ Type: 'container', Action: 'die', Actor: { ID: reviews.Id } });
  await waitFor(() => changes > before, { what: 'die processed' });
  assert.ok(!reg.snapshot().instances.some((i) => i.workload === 'reviews-v1'));

  // The daemon restarts: the stream ends; while away, reviews came back. Resync finds it.
  engine.down = true;
  engine.streams[0]!.end();
  await waitFor(() => reg.lastError !== undefined, { what: 'stream loss noticed' });
  engine.containers.get(reviews.Id)!.State!.Running = true;
  engine.down = false;
  await waitFor(() => reg.snapshot().instances.some((i) => i.workload === 'reviews-v1'), { what: 'resync after reconnect' });
  assert.ok(engine.lists >= 2);
  assert.ok(engine.streams.length >= 2);
  assert.equal(reg.connected, true);
  await reg.stop();
});
