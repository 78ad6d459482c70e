// compose/compose.yaml without Docker: valid for the Compose Specification that `docker
// compose` v2 implements (the schema Debian's docker-compose package installs; the test skips
// without it), free of what docker-compose 1.29 or Swarm reject, and consistent between each
// app container's labels (what pilot and citadel read) and its sidecar's environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const SPEC_SCHEMA = '/usr/lib/python3/dist-packages/compose/config/compose_spec.json';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const composeText = readFileSync(join(repoRoot, 'compose', 'compose.yaml'), 'utf8');

/** Compose's interpolation with every variable unset: `${X:-default}` -> default, `${X}` -> ''. */
function interpolate(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name, def: string | undefined) => def ?? '');
  if (Array.isArray(value)) return value.map(interpolate);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  return value;
}

interface Service {
  image?: string;
  command?: string[];
  labels?: Record<string, string>;
  environment?: Record<string, string>;
  network_mode?: string;
  networks?: Record<string, { aliases?: string[] } | null> | string[];
  cap_add?: string[];
  ports?: string[];
  container_name?: string;
}
interface ComposeFile { services: Record<string, Service>; version?: string }

const file = interpolate(parse(composeText, { merge: true, maxAliasCount: 1000 })) as ComposeFile;
const services = file.services;
const apps = Object.entries(services).filter(([name, s]) => s.labels?.['mesh.workload'] && !s.environment?.MESH_PROXY_KIND && name !== 'ingressgateway');

test('compose.yaml validates against the Compose Specification schema', (t) => {
  if (!existsSync(SPEC_SCHEMA)) {
    t.skip(`no Compose Specification schema at ${SPEC_SCHEMA} (apt-get install docker-compose)`);
    return;
  }
  const schema = JSON.parse(readFileSync(SPEC_SCHEMA, 'utf8')) as Record<string, unknown>;
  // The schema names draft-07 by an URL ajv does not register, and uses draft-04's `id`
  // for anchors that nothing references: drop both, what remains is plain draft-07.
  const dropIds = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (typeof o.id === 'string') delete o.id;
    for (const v of Object.values(o)) dropIds(v);
  };
  delete schema.$schema;
  dropIds(schema);
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const validate = ajv.compile(schema);
  const ok = validate(file);
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
});

test('compose.yaml has no version key and no container_name (Compose v2, project names, Swarm)', () => {
  assert.equal(file.version, undefined);
  for (const [name, s] of Object.entries(services)) assert.equal(s.container_name, undefined, `${name} sets container_name`);
});

test('every demo workload has an app container and a <name>-proxy sidecar in its network namespace', () => {
  const expected = ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1', 'httpbin-v1', 'httpbin-v2', 'sleep'];
  assert.deepEqual(apps.map(([n]) => n).sort(), [...expected].sort());
  for (const [name] of apps) {
    const proxy = services[`${name}-proxy`];
    assert.ok(proxy, `${name} has no ${name}-proxy`);
    assert.equal(proxy.network_mode, `service:${name}`);
    assert.ok(proxy.cap_add?.includes('NET_ADMIN'), `${name}-proxy lacks NET_ADMIN`);
    assert.deepEqual(proxy.command, ['sh', '/mesh/sidecar/capture/init.sh']);
  }
});

test("each sidecar's environment says what its app's labels say", () => {
  for (const [name, app] of apps) {
    const labels = app.labels!;
    const env = services[`${name}-proxy`]!.environment!;
    assert.equal(env.MESH_WORKLOAD, labels['mesh.workload'], name);
    assert.equal(env.MESH_SERVICE_ACCOUNT, labels['mesh.serviceaccount'], name);
    assert.equal(env.MESH_NAMESPACE, labels['mesh.namespace'] ?? 'default', name);
    assert.equal(env.MESH_SERVICES, labels['mesh.service'], name);
    assert.equal(env.MESH_REGISTER, 'false', `${name}: Docker is the source of endpoints in compose`);
    assert.equal(env.MESH_INBOUND_BIND, '0.0.0.0', name);
    assert.equal(env.MESH_LABELS, `app=${labels.app},version=${labels.version}`, name);
    assert.ok(env.MESH_CERT_DIR, `${name}: MESH_CERT_DIR`);
    const labelPorts = (labels['mesh.ports'] ?? '').split(',').filter(Boolean).map((p) => p.split(':').slice(0, 2).join(':'));
    const envPorts = (env.MESH_APP_PORTS ?? '').split(',').filter(Boolean).map((p) => p.split(':').slice(0, 2).join(':'));
    assert.deepEqual(envPorts, labelPorts, `${name}: MESH_APP_PORTS and mesh.ports`);
    for (const p of envPorts) {
      assert.equal(app.environment?.SERVICE_PORT, p.split(':')[1], `${name} listens where its sidecar forwards`);
    }
  }
});

test('each service name resolves by short name and FQDN on the mesh network', () => {
  for (const [name, app] of apps) {
    const service = app.labels!['mesh.service'];
    if (!service) continue;
    const nets = app.networks as Record<string, { aliases?: string[] }>;
    const aliases = nets.mesh?.aliases ?? [];
    for (const a of [service, `${service}.default.svc.cluster.local`]) assert.ok(aliases.includes(a), `${name} lacks alias ${a}`);
  }
});

test('the gateway is a sidecar in gateway mode labelled istio=ingressgateway on port 8080', () => {
  const gw = services.ingressgateway!;
  assert.equal(gw.environment?.MESH_PROXY_KIND, 'gateway');
  assert.match(gw.environment?.MESH_LABELS ?? '', /(^|,)istio=ingressgateway(,|$)/);
  assert.equal(gw.labels?.istio, 'ingressgateway');
  assert.ok(gw.ports?.some((p) => /:8080:8080$/.test(p)), JSON.stringify(gw.ports));
});

test('control plane binds 0.0.0.0 in containers and publishes the well-known host ports', () => {
  const want: Record<string, [string, string[]]> = {
    galley: ['MESH_GALLEY_BIND', ['9901']],
    pilot: ['MESH_PILOT_BIND', ['15014']],
    citadel: ['MESH_CITADEL_BIND', ['8060']],
    mixer: ['MESH_MIXER_BIND', ['9091', '42422']],
  };
  for (const [name, [bind, ports]] of Object.entries(want)) {
    const s = services[name]!;
    assert.equal(s.environment?.[bind], '0.0.0.0', `${name} ${bind}`);
    assert.equal(s.environment?.MESH_NATS_URL, 'nats://nats:4222', name);
    for (const p of ports) assert.ok(s.ports?.some((x) => x.endsWith(`:${p}:${p}`)), `${name} publishes ${p}`);
  }
  assert.equal(services.pilot!.environment?.MESH_REGISTRIES, 'docker');
  assert.ok(services.nats!.ports?.some((x) => x.endsWith(':4222:4222')));
});
