// Assembles pilot from its parts (registries, model, push layer, bus, HTTP API) so that
// main.ts and the integration tests start the same thing.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Bus, Logger } from '#api';
import { buildPilotApi } from './api.js';
import { attachPilotBus, type PilotBus } from './bus.js';
import { createPilotMetrics, type PilotMetrics } from './metrics.js';
import { ConfigStore } from './model/config-store.js';
import { ProxyRegistry } from './model/proxies.js';
import { Pusher } from './push/pusher.js';
import { AggregateRegistry } from './registry/aggregate.js';
import { AnnounceRegistry } from './registry/announce.js';
import { DockerRegistry, dockerApiFromSocket, type DockerApi } from './registry/docker.js';
import { ServiceEntryRegistry } from './registry/service-entries.js';
import type { ServiceRegistry } from './registry/service-registry.js';
import type { PilotSettings } from './settings.js';

const jsonBytes = new TextEncoder();

export type PilotOptions = Pick<PilotSettings, 'registries' | 'dockerSocket' | 'dockerNetwork' | 'pushDebounceMs' | 'pushDebounceMaxMs' | 'proxyExpiryMs'>;

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

export async function startPilot(opts: PilotOptions, deps: { bus: Bus; log: Logger; docker?: DockerApi }): Promise<Pilot> {
  const { bus, log } = deps;
  const instance = randomBytes(6).toString('hex');
  const metrics = createPilotMetrics();
  const proxies = new ProxyRegistry({ expiryMs: opts.proxyExpiryMs });
  const config = new ConfigStore();
  const adapters: ServiceRegistry[] = opts.registries.map((kind) => kind === 'docker'
    ? new DockerRegistry({ docker: deps.docker ?? dockerApiFromSocket(opts.dockerSocket), network: opts.dockerNetwork || undefined, log: log.child({ registry: 'docker' }) })
    : new AnnounceRegistry(proxies));
  // ServiceEntry / WorkloadEntry are always read: they are config, not a platform.
  adapters.push(new ServiceEntryRegistry(config));
  const registry = new AggregateRegistry(adapters);
  const pusher = new Pusher({
    proxies, registry, config, log, metrics,
    publishJson: (subject, json) => bus.nc.publish(subject, jsonBytes.encode(json)),
    debounce: { quietMs: opts.pushDebounceMs, maxMs: opts.pushDebounceMaxMs },
  });
  await registry.start();
  proxies.startExpiry();
  const pilotBus = await attachPilotBus({ bus, proxies, pusher, config, log, instance });
  void pilotBus.fetchSnapshot();
  pilotBus.hello();
  const app = buildPilotApi({ config, proxies, registry, registries: adapters, pusher, metrics });
  log.info({ instance, registries: opts.registries }, 'pilot started');

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
