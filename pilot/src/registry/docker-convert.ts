// Pure conversion of a Docker container (inspect JSON) to the services and instances it
// backs, by the label contract compose writes on app containers:
//   mesh.workload=reviews-v1  mesh.service=reviews  mesh.ports=http:9080[:targetPort]
//   mesh.serviceaccount=bookinfo-reviews  mesh.namespace=default  mesh.inbound-port=15006
// Every other label not starting with com.docker., org.opencontainers. or mesh. is a
// workload label (app, version, ...). The address is the container's IP on the mesh network.
import { DEFAULT_NAMESPACE, fqdn, ports as wellKnownPorts, protocolFromPortName, type Service, type ServicePort, type WorkloadInstance } from '#api';

/** The part of `docker inspect` output the conversion reads. */
export interface ContainerJson {
  Id: string;
  Name?: string;
  Config?: { Hostname?: string; Labels?: Record<string, string> | null };
  State?: { Running?: boolean; Status?: string; Health?: { Status?: string } | null };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string } | null> | null };
}

export interface ContainerConversion {
  containerId: string;
  workload?: string;
  services: Service[];
  instances: WorkloadInstance[];
  /** Label values that could not be used, each naming the container and the label. */
  problems: string[];
}

const reservedLabelPrefixes = ['com.docker.', 'org.opencontainers.', 'mesh.'];

export function workloadLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (!reservedLabelPrefixes.some((p) => k.startsWith(p))) out[k] = v;
  }
  return out;
}

export interface ParsedPort extends ServicePort {
  targetPort: number;
}

/** `http:9080,grpc-x:9090:19090` -> ports; bad entries become problems. */
export function parseMeshPorts(raw: string, where: string): { ports: ParsedPort[]; problems: string[] } {
  const ports: ParsedPort[] = [];
  const problems: string[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, port, target, ...rest] = entry.split(':');
    const n = Number(port);
    const t = target === undefined ? n : Number(target);
    if (!name || rest.length > 0 || !Number.isInteger(n) || n < 1 || n > 65535 || !Number.isInteger(t) || t < 1 || t > 65535) {
      problems.push(`${where}: label mesh.ports entry "${entry}" is not name:port[:targetPort]`);
      continue;
    }
    if (ports.some((p) => p.port === n)) {
      problems.push(`${where}: label mesh.ports lists port ${n} twice`);
      continue;
    }
    ports.push({ name, port: n, targetPort: t, protocol: protocolFromPortName(name, 'HTTP') });
  }
  return { ports, problems };
}

/** The container's IP on `network` (exact name or compose's `<project>_<network>`), else its first network's. */
export function containerAddress(c: ContainerJson, network?: string): string | undefined {
  const nets = Object.entries(c.NetworkSettings?.Networks ?? {}).filter(([, n]) => n?.IPAddress);
  if (network) {
    const hit = nets.find(([name]) => name === network) ?? nets.find(([name]) => name.endsWith(`_${network}`));
    return hit?.[1]?.IPAddress || undefined;
  }
  return nets[0]?.[1]?.IPAddress || undefined;
}

export function convertContainer(c: ContainerJson, opts: { network?: string } = {}): ContainerConversion {
  const id = c.Id;
  const labels = c.Config?.Labels ?? {};
  const where = `container ${(c.Name ?? '').replace(/^\//, '') || id.slice(0, 12)}`;
  const out: ContainerConversion = { containerId: id, services: [], instances: [], problems: [] };
  const workload = labels['mesh.workload'];
  if (!workload) return out;
  out.workload = workload;
  if (c.State && c.State.Running === false) return out;

  const namespace = labels['mesh.namespace'] || DEFAULT_NAMESPACE;
  const serviceAccount = labels['mesh.serviceaccount'] || 'default';
  let inboundPort: number = wellKnownPorts.proxyInbound;
  if (labels['mesh.inbound-port']) {
    const n = Number(labels['mesh.inbound-port']);
    if (Number.isInteger(n) && n > 0 && n <= 65535) inboundPort = n;
    else out.problems.push(`${where}: label mesh.inbound-port "${labels['mesh.inbound-port']}" is not a port; using ${inboundPort}`);
  }
  const { ports, problems } = parseMeshPorts(labels['mesh.ports'] ?? '', where);
  out.problems.push(...problems);
  const address = containerAddress(c, opts.network);
  if (!address) {
    out.problems.push(`${where}: no IP address${opts.network ? ` on network ${opts.network}` : ''}`);
    return out;
  }
  // A container with a healthcheck counts only once Docker reports it healthy.
  const health = c.State?.Health?.Status;
  const healthy = health === undefined || health === 'healthy';
  const hostname = c.Config?.Hostname || id.slice(0, 12);
  const servicePorts: ServicePort[] = ports.map(({ name, port, protocol }) => ({ name, port, protocol }));

  for (const name of (labels['mesh.service'] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const host = fqdn(name, namespace);
    out.services.push({ hostname: host, name: host.split('.')[0]!, namespace: host.split('.')[1] ?? namespace, ports: servicePorts, source: 'docker' });
    for (const p of ports) {
      out.instances.push({
        service: host,
        address,
        port: inboundPort,
        servicePort: p.port,
        labels: workloadLabels(labels),
        workload,
        namespace,
        serviceAccount,
        proxyId: `${workload}-${hostname}.${namespace}`,
        tlsMode: 'istio',
        healthy,
        source: 'docker',
      });
    }
  }
  return out;
}
