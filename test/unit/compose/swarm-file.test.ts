// compose/swarm.yaml against compose/compose.yaml, without Docker: the overlay must keep up
// with the compose file it changes. Every sidecar service is switched off and its app runs the
// pair entrypoint with the same sidecar identity; every service is dnsrr and publishes only
// host-mode ports (ingress ports are refused with dnsrr); the NATS server list clients get is
// the cluster's routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (...p: string[]) => readFileSync(join(repoRoot, ...p), 'utf8');

interface Port { target: number | string; published?: number | string; mode?: string }
interface Service {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  network_mode?: string;
  ports?: (string | Port)[];
  profiles?: string[];
  deploy?: { replicas?: number; endpoint_mode?: string; placement?: { constraints?: string[] } };
}
interface File { services: Record<string, Service | undefined> }

const compose = parse(read('compose', 'compose.yaml'), { merge: true, maxAliasCount: -1 }) as File;
const swarm = parse(read('compose', 'swarm.yaml'), { merge: true, maxAliasCount: -1 }) as File;
// What the stack runs: compose's services without profiles (swarm-deploy.sh leaves those out), plus the overlay's own.
const deployed = [...new Set([
  ...Object.entries(compose.services).filter(([, s]) => !s?.profiles).map(([n]) => n),
  ...Object.keys(swarm.services),
])];
const replicasOf = (name: string) => swarm.services[name]?.deploy?.replicas ?? 1;

const sidecarIdentity = ['MESH_WORKLOAD', 'MESH_NAMESPACE', 'MESH_SERVICE_ACCOUNT', 'MESH_LABELS', 'MESH_SERVICES', 'MESH_APP_PORTS', 'MESH_PROXY_KIND'];

test('every sidecar service is off; its app runs app + sidecar with the same identity', () => {
  const sidecars = Object.entries(compose.services).filter(([, s]) => s?.network_mode?.startsWith('service:'));
  assert.ok(sidecars.length >= 9, 'compose.yaml has its sidecars');
  for (const [name, sidecar] of sidecars) {
    assert.equal(replicasOf(name), 0, `${name}: Swarm ignores network_mode; swarm.yaml must set replicas: 0`);
    const app = sidecar!.network_mode!.slice('service:'.length);
    const pair = swarm.services[app];
    assert.ok(pair, `swarm.yaml has no entry for ${app} (the app of ${name})`);
    assert.equal(pair.entrypoint?.[0], 'bash', `${app}: the pair entrypoint`);
    assert.match(pair.entrypoint?.[2] ?? '', /"\$\$@" &[\s\S]*init\.sh/, `${app}: starts the app ("$@") and the sidecar`);
    assert.ok(compose.services[app]?.command?.length, `${app}: compose.yaml's command is the app the entrypoint runs`);
    for (const k of sidecarIdentity) {
      assert.equal(pair.environment?.[k], sidecar!.environment?.[k], `${app}: ${k} differs from ${name}'s`);
    }
    assert.equal(pair.environment?.MESH_CAPTURE, undefined, 'the entrypoint sets MESH_CAPTURE=none itself');
  }
});

test('every running service is dnsrr and publishes host-mode ports only, for every compose port', () => {
  for (const name of deployed) {
    if (replicasOf(name) === 0) continue;
    const s = swarm.services[name];
    assert.equal(s?.deploy?.endpoint_mode, 'dnsrr', `${name}: endpoint_mode dnsrr (VIPs did not answer)`);
    const overlay = (s?.ports ?? []) as Port[];
    for (const p of overlay) assert.equal(p.mode, 'host', `${name}: port ${p.target} must be mode: host (dnsrr has no routing mesh)`);
    for (const p of compose.services[name]?.ports ?? []) {
      // "${ADDR}:${VAR:-8080}:8080" -> the same published expression and target in host mode, so the loader merges them.
      const text = String(p);
      const m = /:(\$\{[^}]+\}|\d+):(\d+)$/.exec(text);
      assert.ok(m, `${name}: unexpected port syntax ${text}`);
      const hit = overlay.find((o) => String(o.target) === m[2] && String(o.published) === m[1]);
      assert.ok(hit, `${name}: compose port ${text} has no host-mode twin in swarm.yaml`);
    }
  }
});

test('clients get every NATS server, and the servers route to each other', () => {
  const natsServices = deployed.filter((n) => /^nats(-\d+)?$/.test(n));
  assert.deepEqual(natsServices.sort(), ['nats', 'nats-2', 'nats-3']);
  const urls = (swarm.services.pilot?.environment?.MESH_NATS_URL ?? '').split(',');
  assert.deepEqual(urls.map((u) => new URL(u).hostname).sort(), natsServices);
  const conf = read('compose', 'nats', 'cluster.conf');
  const routes = [...conf.matchAll(/nats:\/\/([\w-]+):6222/g)].map((m) => m[1]).sort();
  assert.deepEqual(routes, natsServices);
  for (const n of natsServices) {
    assert.match((swarm.services[n]?.command ?? []).join(' '), /-c \/etc\/nats\/cluster\.conf --name \S+/, `${n} runs the cluster config`);
  }
  // Every service that talks to the bus gets the list (sidecars included).
  for (const name of deployed) {
    if (replicasOf(name) === 0) continue;
    const url = compose.services[name]?.environment?.MESH_NATS_URL;
    if (url === undefined && !swarm.services[name]?.environment?.MESH_PROXY_KIND) continue;
    assert.equal(swarm.services[name]?.environment?.MESH_NATS_URL, urls.join(','), `${name}: the whole server list`);
  }
});

test('no service keeps a NATS login file the stack does not provide', () => {
  // An empty value would not override compose.yaml's (the stack loader's merge skips empty values).
  for (const name of deployed) {
    if (replicasOf(name) === 0) continue;
    for (const k of ['MESH_NATS_USER_FILE', 'MESH_NATS_PASS_FILE']) {
      if (compose.services[name]?.environment?.[k] === undefined) continue;
      assert.equal(swarm.services[name]?.environment?.[k], '/dev/null', `${name}: ${k}`);
    }
  }
});

test('pilot reads Swarm tasks from a manager', () => {
  assert.equal(swarm.services.pilot?.environment?.MESH_REGISTRY, 'swarm');
  assert.deepEqual(swarm.services.pilot?.deploy?.placement?.constraints, ['node.role == manager']);
  assert.equal(compose.services.pilot?.environment?.MESH_REGISTRIES, 'docker');
});
