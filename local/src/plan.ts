// Process mode as data: which processes make up the mesh, with their ports and environment.
// Pure, so the plan can be printed and tested; supervisor.ts runs it.

import { join, resolve } from 'node:path';
import { createHmac } from 'node:crypto';
import { appHostPort, bootstrapToken, hostPorts, ports, proxyHostPorts, proxyId, type HostPorts } from '#api';
import { controlUsers, natsEnv, proxyUser, renderNatsConfig, type ControlComponent, type NatsUser } from './nats-auth.js';
import { demoWorkloads, ingressGateway, type DemoWorkload } from './demo.js';

export interface ProcessSpec {
  name: string;
  /** Node entry point relative to the repo root, or an executable. */
  command: string;
  args: string[];
  env: Record<string, string>;
  /** HTTP URL answering 200 when the process is ready; or a TCP port for servers without one. */
  ready: { http: string } | { tcp: number };
  group: 'bus' | 'control' | 'app' | 'proxy' | 'gateway';
}

export interface ProxyPorts {
  admin: number;
  outbound: number;
  inbound: number;
}

export interface MeshPlan {
  ports: {
    nats: number; gateway: number; galley: number; pilot: number; citadel: number; mixer: number; mixerMetrics: number;
    console: number;
  };
  natsUrl: string;
  processes: ProcessSpec[];
  proxies: { workload: string; ports: ProxyPorts; appPort?: number }[];
  /** The nats-server config (users and permissions) the launcher writes, 0600, before starting nats. */
  natsConfig?: { file: string; text: string };
}

export interface PlanOptions {
  root: string;
  node: string;
  natsBin: string;
  portOffset: number;
  /** Lay every host port out compactly from here instead (see hostPorts in api/src/ports.ts). */
  portBase?: number;
  stateDir: string;
  configDir: string;
  demo: boolean;
  logLevel: string;
  citadelSecret: string;
  workloads?: DemoWorkload[];
  /** NATS users per component and proxy with subject permissions (default true). */
  natsAuth?: boolean;
}

export function proxyPorts(index: number, offset: number, base?: number): ProxyPorts {
  return proxyHostPorts(index, { offset, base });
}

export function planMesh(o: PlanOptions): MeshPlan {
  const layout = { offset: o.portOffset, base: o.portBase };
  const p = hostPorts(layout);
  const natsUrl = `nats://127.0.0.1:${p.nats}`;
  const dist = (rel: string) => join(o.root, 'dist', rel);
  const common = { MESH_NATS_URL: natsUrl, MESH_LOG_LEVEL: o.logLevel };
  const auth = o.natsAuth !== false;
  const natsConfigFile = join(o.stateDir, 'nats.conf');
  const users: NatsUser[] = auth ? controlUsers(o.citadelSecret) : [];
  const login = (c: ControlComponent) => (auth ? natsEnv(users.find((u) => u.user === c)!) : {});
  // Fixed per launcher secret (same shape as the sidecar's default), so each proxy's NATS user
  // can be allowed exactly its own config subject.
  const launchedProxy = (workload: string, serviceAccount: string) => {
    const id = proxyId(`${workload}-${createHmac('sha256', o.citadelSecret).update(`proxy/${workload}`).digest('hex').slice(0, 5)}`, 'default');
    if (!auth) return {};
    const u = proxyUser(o.citadelSecret, { proxyId: id, workload, namespace: 'default', serviceAccount });
    users.push(u);
    return { MESH_PROXY_ID: id, ...natsEnv(u) };
  };
  const processes: ProcessSpec[] = [
    { name: 'nats', command: o.natsBin, args: [...(auth ? ['-c', natsConfigFile] : []), '-a', '127.0.0.1', '-p', String(p.nats)], env: {}, ready: { tcp: p.nats }, group: 'bus' },
    {
      name: 'citadel', command: o.node, args: [dist('citadel/src/main.js')], group: 'control',
      env: { ...common, ...login('citadel'), MESH_CITADEL_PORT: String(p.citadel), MESH_CITADEL_DATA_DIR: join(o.stateDir, 'citadel'), MESH_CITADEL_ATTESTATION: 'token', MESH_CITADEL_BOOTSTRAP_SECRET: o.citadelSecret },
      ready: { http: `http://127.0.0.1:${p.citadel}/ready` },
    },
    {
      name: 'galley', command: o.node, args: [dist('galley/src/main.js')], group: 'control',
      env: { ...common, ...login('galley'), MESH_GALLEY_PORT: String(p.galley), MESH_CONFIG_DIR: resolve(o.root, o.configDir), MESH_GALLEY_STATE_DIR: join(o.stateDir, 'galley') },
      ready: { http: `http://127.0.0.1:${p.galley}/ready` },
    },
    {
      name: 'pilot', command: o.node, args: [dist('pilot/src/main.js')], group: 'control',
      env: { ...common, ...login('pilot'), MESH_PILOT_PORT: String(p.pilot), MESH_REGISTRIES: 'announce' },
      ready: { http: `http://127.0.0.1:${p.pilot}/ready` },
    },
    {
      name: 'mixer', command: o.node, args: [dist('mixer/src/main.js')], group: 'control',
      env: { ...common, ...login('mixer'), MESH_MIXER_PORT: String(p.mixer), MESH_MIXER_METRICS_PORT: String(p.mixerMetrics) },
      ready: { http: `http://127.0.0.1:${p.mixer}/ready` },
    },
    {
      // The web console reads the components' HTTP APIs only (no bus).
      name: 'console', command: o.node, args: [dist('console/src/main.js')], group: 'control',
      env: {
        MESH_LOG_LEVEL: o.logLevel, MESH_CONSOLE_PORT: String(p.console),
        MESH_GALLEY_URL: `http://127.0.0.1:${p.galley}`, MESH_PILOT_URL: `http://127.0.0.1:${p.pilot}`,
        MESH_CITADEL_URL: `http://127.0.0.1:${p.citadel}`, MESH_MIXER_URL: `http://127.0.0.1:${p.mixer}`,
        MESH_CONSOLE_ASSETS_DIR: join(o.root, 'console/web'),
      },
      ready: { http: `http://127.0.0.1:${p.console}/ready` },
    },
  ];
  const proxies: MeshPlan['proxies'] = [];
  if (o.demo) {
    const workloads = o.workloads ?? demoWorkloads;
    workloads.forEach((w, i) => {
      const pp = proxyPorts(i, o.portOffset, o.portBase);
      const appPort = appHostPort(i, layout);
      proxies.push({ workload: w.workload, ports: pp, appPort });
      processes.push({
        name: w.workload, command: o.node, args: [dist(`services/src/${w.entry}/main.js`)], group: 'app',
        env: {
          SERVICE_PORT: String(appPort), SERVICE_BIND: '127.0.0.1', HTTP_PROXY: `http://127.0.0.1:${pp.outbound}`,
          ...w.env,
        },
        ready: { http: `http://127.0.0.1:${appPort}/health` },
      });
      processes.push({
        name: `${w.workload}-proxy`, command: o.node, args: [dist('sidecar/src/main.js')], group: 'proxy',
        env: {
          ...common,
          MESH_PROXY_KIND: 'sidecar',
          MESH_WORKLOAD: w.workload,
          MESH_NAMESPACE: 'default',
          MESH_SERVICE_ACCOUNT: w.serviceAccount,
          MESH_LABELS: Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(','),
          MESH_SERVICES: w.service ?? '',
          MESH_APP_PORTS: w.service ? `http:${w.port}:${appPort}` : '',
          MESH_INBOUND_PORT: String(pp.inbound),
          MESH_INBOUND_BIND: '127.0.0.1',
          MESH_INBOUND_ADVERTISE: '127.0.0.1',
          MESH_OUTBOUND_PORT: String(pp.outbound),
          MESH_OUTBOUND_BIND: '127.0.0.1',
          MESH_ADMIN_PORT: String(pp.admin),
          MESH_REGISTER: 'true',
          MESH_CITADEL_TOKEN: bootstrapToken(o.citadelSecret, 'default', w.serviceAccount),
          ...launchedProxy(w.workload, w.serviceAccount),
        },
        ready: { http: `http://127.0.0.1:${pp.admin}/ready` },
      });
    });
    const gp = proxyPorts(workloads.length, o.portOffset, o.portBase);
    proxies.push({ workload: ingressGateway.workload, ports: gp });
    processes.push({
      name: ingressGateway.workload, command: o.node, args: [dist('sidecar/src/main.js')], group: 'gateway',
      env: {
        ...common,
        MESH_PROXY_KIND: 'gateway',
        MESH_WORKLOAD: ingressGateway.workload,
        MESH_NAMESPACE: 'default',
        MESH_SERVICE_ACCOUNT: ingressGateway.serviceAccount,
        MESH_LABELS: Object.entries(ingressGateway.labels).map(([k, v]) => `${k}=${v}`).join(','),
        MESH_SERVICES: '',
        MESH_APP_PORTS: '',
        MESH_INBOUND_PORT: String(gp.inbound),
        MESH_INBOUND_BIND: '127.0.0.1',
        MESH_INBOUND_ADVERTISE: '127.0.0.1',
        MESH_OUTBOUND_PORT: String(gp.outbound),
        MESH_ADMIN_PORT: String(gp.admin),
        MESH_REGISTER: 'false',
        MESH_GATEWAY_PORT_MAP: `${ports.gateway}=${p.gateway}`,
        MESH_CITADEL_TOKEN: bootstrapToken(o.citadelSecret, 'default', ingressGateway.serviceAccount),
        ...launchedProxy(ingressGateway.workload, ingressGateway.serviceAccount),
      },
      ready: { http: `http://127.0.0.1:${gp.admin}/ready` },
    });
  }
  // Node 22.1+ keeps compiled module code here, so every start after the first skips most of
  // its ~0.3-0.5 s of module compilation per process; older Node ignores the variable.
  for (const proc of processes) if (proc.command === o.node) proc.env.NODE_COMPILE_CACHE = join(o.stateDir, 'compile-cache');
  return { ports: p, natsUrl, processes, proxies, ...(auth ? { natsConfig: { file: natsConfigFile, text: renderNatsConfig(users) } } : {}) };
}
