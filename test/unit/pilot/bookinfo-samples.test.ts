// Every Bookinfo VirtualService / DestinationRule Istio 1.1 ships loads and generates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileRouteConfiguration, type Resource } from '#api';
import { generateProxyConfig } from '../../../pilot/src/generate/index.js';
import { buildPushContext } from '../../../pilot/src/model/push-context.js';
import { bookinfoProxies, parseResources, registryOf, snapshotOf } from './bookinfo-model.js';
import { istioSample } from '../../support/samples.js';

const dir = istioSample('1.1.0', 'bookinfo-networking');

test('Istio 1.1 bookinfo-networking samples generate config for every proxy', { skip: !existsSync(dir) && `${dir} absent` }, () => {
  const proxies = Object.values(bookinfoProxies());
  const registry = registryOf(proxies);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.length > 10);
  let loaded = 0;
  for (const file of files) {
    const resources: Resource[] = parseResources(readFileSync(join(dir, file), 'utf8'), file)
      .filter((r) => r.kind === 'VirtualService' || r.kind === 'DestinationRule' || r.kind === 'Gateway');
    loaded += resources.length;
    const push = buildPushContext(snapshotOf(resources, file), registry);
    for (const proxy of proxies) {
      const cfg = generateProxyConfig(push, proxy);
      // The sidecar compiles every route configuration it receives: it must compile.
      for (const rc of cfg.routes) compileRouteConfiguration(rc);
      assert.ok(cfg.clusters.length > 0, `${file}: ${proxy.proxyId} has clusters`);
    }
    // Each file's VirtualServices for mesh hosts show up as routes with their origin.
    const mesh = resources.filter((r) => r.kind === 'VirtualService' && !(r.spec as { gateways?: string[] }).gateways);
    const pp = generateProxyConfig(push, proxies[0]!);
    for (const vs of mesh) {
      const key = `default/${vs.metadata.name}`;
      const hosts = (vs.spec as { hosts: string[] }).hosts;
      const known = hosts.some((h) => registry.services.some((s) => s.name === h));
      if (!known) continue;
      assert.ok(pp.routes.some((rc) => rc.virtualHosts.some((vh) => vh.routes.some((r) => r.origin?.virtualService === key))), `${file}: routes from ${key}`);
    }
  }
  assert.ok(loaded > 20, `loaded ${loaded} resources`);
});
