// ServiceEntry and WorkloadEntry: the shape pilot's config registry adapter relies on, with
// Istio's rules (unique port numbers and names, endpoints consistent with the resolution).

import { isIP } from 'node:net';
import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';
import { checkHost } from './virtual-service.js';

export const serviceProtocols = ['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'MONGO', 'TCP', 'TLS', 'GRPC-WEB', 'REDIS', 'MYSQL', 'UDP'];

function checkWorkloadEntry(c: FieldChecker, path: string, spec: Obj, opts: { staticAddress?: boolean; portNames?: Set<string> } = {}): void {
  const address = c.string(at(path, 'address'), spec.address);
  if (address !== undefined && opts.staticAddress && !address.startsWith('unix://') && isIP(address) === 0) {
    c.error(at(path, 'address'), `${JSON.stringify(address)} is not an IP address: resolution STATIC needs IP endpoints (or unix://)`);
  }
  const ports = c.object(at(path, 'ports'), spec.ports);
  if (ports) {
    for (const [k, v] of Object.entries(ports)) {
      c.port(at(at(path, 'ports'), k), v);
      if (opts.portNames && !opts.portNames.has(k)) c.error(at(at(path, 'ports'), k), `endpoint port ${JSON.stringify(k)} is not a port name of this ServiceEntry`);
    }
  }
  c.labels(at(path, 'labels'), spec.labels);
  for (const k of ['network', 'locality', 'serviceAccount'] as const) c.string(at(path, k), spec[k]);
  c.int(at(path, 'weight'), spec.weight, 0, 2 ** 32 - 1);
}

const workloadEntryFields = ['address', 'ports', 'labels', 'network', 'locality', 'weight', 'serviceAccount'];

export function validateWorkloadEntry(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, workloadEntryFields);
  checkWorkloadEntry(c, 'spec', spec);
}

export function validateServiceEntry(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['hosts', 'addresses', 'ports', 'location', 'resolution', 'endpoints', 'workloadSelector', 'exportTo', 'subjectAltNames']);
  const hosts = c.list('spec.hosts', spec.hosts, { required: true, nonEmpty: true });
  hosts?.forEach((h, i) => checkHost(c, `spec.hosts[${i}]`, h));
  c.list('spec.addresses', spec.addresses)?.forEach((a, i) => c.ipOrCidr(`spec.addresses[${i}]`, a));
  const numbers = new Map<number, number>();
  const names = new Set<string>();
  c.list('spec.ports', spec.ports)?.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    const o = c.object(path, p, true, ['number', 'protocol', 'name', 'targetPort']);
    if (!o) return;
    const n = c.port(at(path, 'number'), o.number, true);
    c.string(at(path, 'protocol'), o.protocol, { ignoreCase: true, oneOf: serviceProtocols });
    const name = c.string(at(path, 'name'), o.name, { required: true });
    c.port(at(path, 'targetPort'), o.targetPort);
    if (n !== undefined) {
      if (numbers.has(n)) c.error(at(path, 'number'), `port number ${n} is already declared by spec.ports[${numbers.get(n)}]`);
      else numbers.set(n, i);
    }
    if (name !== undefined) {
      if (names.has(name)) c.error(at(path, 'name'), `port name ${JSON.stringify(name)} is declared twice`);
      names.add(name);
    }
  });
  c.string('spec.location', spec.location, { oneOf: ['MESH_EXTERNAL', 'MESH_INTERNAL'] });
  const resolution = c.string('spec.resolution', spec.resolution, { oneOf: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] });
  const endpoints = c.list('spec.endpoints', spec.endpoints);
  endpoints?.forEach((e, i) => {
    const o = c.object(`spec.endpoints[${i}]`, e, true, workloadEntryFields);
    if (o) {
      if (resolution === 'STATIC' || resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') c.string(`spec.endpoints[${i}].address`, o.address, { required: true });
      checkWorkloadEntry(c, `spec.endpoints[${i}]`, o, { staticAddress: resolution === 'STATIC', portNames: names });
    }
  });
  c.selector('spec.workloadSelector', spec.workloadSelector, 'labels');
  const hasEndpoints = Array.isArray(endpoints) && endpoints.length > 0;
  if (resolution === 'STATIC' && !hasEndpoints && spec.workloadSelector === undefined) {
    c.error('spec.endpoints', 'resolution STATIC needs endpoints (or a workloadSelector)');
  }
  if (hasEndpoints && spec.workloadSelector !== undefined) c.error('spec.workloadSelector', 'cannot be used together with endpoints');
  if ((resolution === undefined || resolution === 'NONE') && hasEndpoints) c.error('spec.endpoints', 'resolution NONE cannot have endpoints');
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !hasEndpoints) {
    hosts?.forEach((h, i) => {
      if (typeof h === 'string' && h.startsWith('*')) c.error(`spec.hosts[${i}]`, `wildcard host ${JSON.stringify(h)} cannot be resolved by DNS: give endpoints or use resolution NONE`);
    });
  }
  c.strings('spec.exportTo', spec.exportTo);
  c.strings('spec.subjectAltNames', spec.subjectAltNames);
}

