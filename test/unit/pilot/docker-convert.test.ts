import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertContainer, parseMeshPorts, workloadLabels, type ContainerJson } from '../../../pilot/src/registry/docker-convert.js';
import { fixture } from './fixtures.js';

test('a healthy app container becomes a service and one instance per port, on the mesh network', () => {
  const c = convertContainer(fixture<ContainerJson>('reviews-v1-healthy'), { network: 'mesh' });
  assert.deepEqual(c.problems, []);
  assert.deepEqual(c.services, [{
    hostname: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default',
    ports: [{ name: 'http', port: 9080, protocol: 'HTTP' }], source: 'docker',
  }]);
  assert.deepEqual(c.instances, [{
    service: 'reviews.default.svc.cluster.local', address: '172.21.0.5', port: 15006, servicePort: 9080,
    labels: { app: 'reviews', version: 'v1' }, workload: 'reviews-v1', namespace: 'default',
    serviceAccount: 'bookinfo-reviews', proxyId: 'reviews-v1-3f2a9c1b7d4e.default', tlsMode: 'istio', healthy: true, source: 'docker',
  }]);
});

test('without a network setting the first network with an IP is used', () => {
  const c = convertContainer(fixture<ContainerJson>('reviews-v1-healthy'));
  assert.equal(c.instances[0]?.address, '172.20.0.9');
});

test('a container whose healthcheck is still starting is not healthy; port names give protocols', () => {
  const c = convertContainer(fixture<ContainerJson>('ratings-starting'), { network: 'mesh' });
  assert.deepEqual(c.instances.map((i) => [i.servicePort, i.healthy]), [[9080, false], [9090, false]]);
  assert.deepEqual(c.services[0]?.ports, [{ name: 'http', port: 9080, protocol: 'HTTP' }, { name: 'grpc-admin', port: 9090, protocol: 'GRPC' }]);
  assert.equal(c.services[0]?.namespace, 'default');
});

test('a client with an empty mesh.service backs no service', () => {
  const c = convertContainer(fixture<ContainerJson>('sleep-client'));
  assert.equal(c.workload, 'sleep');
  assert.deepEqual(c.services, []);
  assert.deepEqual(c.instances, []);
});

test('bad label values are reported by container and label; the good parts still count', () => {
  const c = convertContainer(fixture<ContainerJson>('details-bad-labels'));
  assert.equal(c.problems.length, 4, c.problems.join('\n'));
  assert.ok(c.problems.every((p) => p.startsWith('container details:')));
  assert.ok(c.problems.some((p) => p.includes('"broken"')));
  assert.ok(c.problems.some((p) => p.includes('mesh.inbound-port')));
  assert.deepEqual(c.services.map((s) => s.hostname), ['details.default.svc.cluster.local', 'details-alias.other.svc.cluster.local']);
  assert.deepEqual(c.instances.map((i) => `${i.address}:${i.port}/${i.servicePort}`), ['172.21.0.8:15006/9080', '172.21.0.8:15006/9080']);
});

test('a stopped container contributes nothing', () => {
  const c = convertContainer(fixture<ContainerJson>('exited'));
  assert.deepEqual([c.services, c.instances, c.problems], [[], [], []]);
});

test('label and port helpers', () => {
  assert.deepEqual(workloadLabels({ app: 'a', 'mesh.x': '1', 'com.docker.compose.service': 's', 'org.opencontainers.image.x': 'y', team: 't' }), { app: 'a', team: 't' });
  assert.deepEqual(parseMeshPorts('http:9080:19080', 'c').ports, [{ name: 'http', port: 9080, targetPort: 19080, protocol: 'HTTP' }]);
  assert.equal(parseMeshPorts('http:0', 'c').problems.length, 1);
});
