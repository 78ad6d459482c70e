// Assembles pilot from its parts (registries, model, push layer, bus, HTTP API) so that
// main.ts and the integration tests start the same thing.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Bus, Logger } from '#api';
import { buildPilotApi } from './api.js';
import { attachPilotBus, configSubjectRouter, type PilotBus } from './bus.js';
import { createPilotMetrics, type PilotMetrics } from './metrics.js';
import { ConfigStore } from './model/config-store.js';
import { ProxyRegistry } from './model/proxies.js';
import { Pusher } from './push/pusher.js';
import { AggregateRegistry } from './registry/aggregate.js';
import { AnnounceRegistry } from './registry/announce.js';
import type { DockerApi } from './registry/docker.js';
import { ServiceEntryRegistry } from './registry/service-entries.js';
import { buildDockerRegistry, type SwarmApi } from './registry/swarm.js';
import type { ServiceRegistry } from './registry/service-registry.js';
import type { PilotSettings } from './settings.js';

const jsonBytes = new TextEncoder();

export type PilotOptions = Pick<PilotSettings, 'registries' | 'dockerSocket' | 'dockerNetwork' | 'pushDebounceMs' | 'pushDebounceMaxMs' | 'proxyExpiryMs'>
  & Partial<Pick<PilotSettings, 'outboundTrafficPolicy' | 'dockerRegistryMode' | 'swarmPollMs'>>;

export interface Pilot {
  instance: string;
  app: FastifyInstance;
  proxies: ProxyRegistry;
  config: ConfigStore;
  registry: AggregateRegistry;
  pusher: Pusher;
  metrics: PilotMetrics;
  bus: PilotBus;
  stop(): Promise<void>;
}

export async function startPilot(opts: PilotOptions, deps: { bus: Bus; log: Logger; docker?: DockerApi; swarm?: SwarmApi }): Promise<Pilot> {
  const { bus, log } = deps;
  const instance = randomBytes(6).toString('hex');
  const metrics = createPilotMetrics();
  const proxies = new ProxyRegistry({ expiryMs: opts.proxyExpiryMs });
  const config = new ConfigStore();
  // MESH_REGISTRY picks containers (compose) or Swarm tasks for the docker registry.
  const docker = opts.registries.includes('docker')
    ? await buildDockerRegistry({ mode: opts.dockerRegistryMode, socket: opts.dockerSocket, network: opts.dockerNetwork || undefined, pollMs: opts.swarmPollMs }, { log, docker: deps.docker, swarm: deps.swarm })
    : undefined;
  const adapters: ServiceRegistry[] = opts.registries.map((kind) => kind === 'docker' ? docker! : new AnnounceRegistry(proxies));
  // ServiceEntry / WorkloadEntry are always read: they are config, not a platform.
  adapters.push(new ServiceEntryRegistry(config));
  const registry = new AggregateRegistry(adapters);
  const configSubject = configSubjectRouter(proxies);
  const pusher = new Pusher({
    proxies, registry, config, log, metrics,
    publishJson: (subject, json) => bus.nc.publish(configSubject(subject), jsonBytes.encode(json)),
    debounce: { quietMs: opts.pushDebounceMs, maxMs: opts.pushDebounceMaxMs },
    mesh: { outboundTrafficPolicy: opts.outboundTrafficPolicy ?? 'ALLOW_ANY' },
  });
  await registry.start();
  proxies.startExpiry();
  const pilotBus = await attachPilotBus({
    bus, proxies, pusher, config, log, instance,
    refused: (verb, reason) => metrics.refusedProxyMessages.inc({ verb, reason }),
  });
  void pilotBus.fetchSnapshot();
  pilotBus.hello();
  const app = buildPilotApi({ config, proxies, registry, registries: adapters, pusher, metrics });
  log.info({ instance, registries: opts.registries, outboundTrafficPolicy: opts.outboundTrafficPolicy ?? 'ALLOW_ANY' }, 'pilot started');

  return {
    instance, app, proxies, config, registry, pusher, metrics, bus: pilotBus,
    async stop() {
      await pilotBus.stop();
      pusher.stop();
      proxies.stop();
      await registry.stop();
      await app.close();
    },
  };
}
