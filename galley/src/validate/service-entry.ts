// ServiceEntry and WorkloadEntry: the shape pilot's config registry adapter relies on.

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';
import { checkHost } from './virtual-service.js';

function checkWorkloadEntry(c: FieldChecker, path: string, spec: Obj): void {
  c.string(at(path, 'address'), spec.address);
  const ports = c.object(at(path, 'ports'), spec.ports);
  if (ports) for (const [k, v] of Object.entries(ports)) c.port(at(at(path, 'ports'), k), v);
  c.stringMap(at(path, 'labels'), spec.labels);
  for (const k of ['network', 'locality', 'serviceAccount'] as const) c.string(at(path, k), spec[k]);
  c.int(at(path, 'weight'), spec.weight, 0);
}

const workloadEntryFields = ['address', 'ports', 'labels', 'network', 'locality', 'weight', 'serviceAccount'];

export function validateWorkloadEntry(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, workloadEntryFields);
  checkWorkloadEntry(c, 'spec', spec);
}

export function validateServiceEntry(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['hosts', 'addresses', 'ports', 'location', 'resolution', 'endpoints', 'workloadSelector', 'exportTo', 'subjectAltNames']);
  c.list('spec.hosts', spec.hosts, { required: true, nonEmpty: true })?.forEach((h, i) => checkHost(c, `spec.hosts[${i}]`, h));
  c.strings('spec.addresses', spec.addresses);
  c.list('spec.ports', spec.ports)?.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    const o = c.object(path, p, true, ['number', 'protocol', 'name', 'targetPort']);
    if (!o) return;
    c.port(at(path, 'number'), o.number, true);
    c.string(at(path, 'protocol'), o.protocol, { ignoreCase: true, oneOf: ['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'MONGO', 'TCP', 'TLS', 'GRPC-WEB', 'REDIS', 'MYSQL', 'UDP'] });
    c.string(at(path, 'name'), o.name);
    c.port(at(path, 'targetPort'), o.targetPort);
  });
  c.string('spec.location', spec.location, { oneOf: ['MESH_EXTERNAL', 'MESH_INTERNAL'] });
  c.string('spec.resolution', spec.resolution, { oneOf: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] });
  c.list('spec.endpoints', spec.endpoints)?.forEach((e, i) => {
    const o = c.object(`spec.endpoints[${i}]`, e, true, workloadEntryFields);
    if (o) checkWorkloadEntry(c, `spec.endpoints[${i}]`, o);
  });
  if (spec.resolution === 'STATIC' && !(Array.isArray(spec.endpoints) && spec.endpoints.length > 0) && spec.workloadSelector === undefined) {
    c.error('spec.endpoints', 'resolution STATIC needs endpoints (or a workloadSelector)');
  }
  c.strings('spec.exportTo', spec.exportTo);
}
