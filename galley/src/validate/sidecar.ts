// Sidecar field validation (networking.istio.io): which workloads it applies to, inbound
// listeners (port, default endpoint) and egress listeners (`namespace/host` imports).

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';
import { serviceProtocols } from './service-entry.js';

const captureModes = ['DEFAULT', 'IPTABLES', 'NONE'];
/** `ns/host`: ns is a name, `*`, `.` (this namespace) or `~` (none); host a DNS name or wildcard. */
const egressHost = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?|\*|\.|~)\/(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const defaultEndpoint = /^(127\.0\.0\.1|0\.0\.0\.0|\[::1\]|\[::\]):(\d+)$|^unix:\/\/.+$/;

function checkPort(c: FieldChecker, path: string, v: unknown, required: boolean): number | undefined {
  const p = c.object(path, v, required, ['number', 'protocol', 'name', 'targetPort']);
  if (!p) return undefined;
  const n = c.port(at(path, 'number'), p.number, true);
  c.string(at(path, 'protocol'), p.protocol, { ignoreCase: true, oneOf: serviceProtocols });
  c.string(at(path, 'name'), p.name);
  c.port(at(path, 'targetPort'), p.targetPort);
  return n;
}

export function validateSidecar(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['workloadSelector', 'ingress', 'egress', 'outboundTrafficPolicy', 'inboundConnectionPool']);
  c.selector('spec.workloadSelector', spec.workloadSelector, 'labels');

  const ingressPorts = new Set<number>();
  c.list('spec.ingress', spec.ingress)?.forEach((l, i) => {
    const p = `spec.ingress[${i}]`;
    const o = c.object(p, l, true, ['port', 'bind', 'captureMode', 'defaultEndpoint', 'tls', 'connectionPool']);
    if (!o) return;
    const n = checkPort(c, at(p, 'port'), o.port, true);
    if (n !== undefined) {
      if (ingressPorts.has(n)) c.error(at(at(p, 'port'), 'number'), `port ${n} has two ingress listeners`);
      ingressPorts.add(n);
    }
    c.string(at(p, 'bind'), o.bind);
    c.string(at(p, 'captureMode'), o.captureMode, { oneOf: captureModes });
    const ep = c.string(at(p, 'defaultEndpoint'), o.defaultEndpoint);
    if (ep !== undefined && ep !== '') {
      const m = defaultEndpoint.exec(ep);
      if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
        c.error(at(p, 'defaultEndpoint'), `${JSON.stringify(ep)} must be 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT or unix://PATH`);
      }
    }
    c.object(at(p, 'tls'), o.tls);
  });

  const egressPorts = new Set<number>();
  let portless = -1;
  const egress = c.list('spec.egress', spec.egress);
  egress?.forEach((l, i) => {
    const p = `spec.egress[${i}]`;
    const o = c.object(p, l, true, ['port', 'bind', 'captureMode', 'hosts']);
    if (!o) return;
    const n = checkPort(c, at(p, 'port'), o.port, false);
    if (o.port === undefined) {
      if (portless >= 0) c.error(p, `only one egress listener may have no port (spec.egress[${portless}] has none already)`);
      portless = i;
    } else if (n !== undefined) {
      if (egressPorts.has(n)) c.error(at(at(p, 'port'), 'number'), `port ${n} has two egress listeners`);
      egressPorts.add(n);
    }
    c.string(at(p, 'bind'), o.bind);
    c.string(at(p, 'captureMode'), o.captureMode, { oneOf: captureModes });
    c.strings(at(p, 'hosts'), o.hosts, { required: true, nonEmpty: true })?.forEach((h, j) => {
      if (!egressHost.test(h)) c.error(at(at(p, 'hosts'), j), `${JSON.stringify(h)} must be namespace/host (namespace: a name, "*", "." or "~"; host: a DNS name, "*" or "*.suffix")`);
    });
  });
  if (portless >= 0 && egress && portless !== egress.length - 1) {
    c.error(`spec.egress[${portless}]`, 'the egress listener without a port must be the last one');
  }

  const otp = c.object('spec.outboundTrafficPolicy', spec.outboundTrafficPolicy, false, ['mode', 'egressProxy']);
  if (otp) c.string('spec.outboundTrafficPolicy.mode', otp.mode, { oneOf: ['REGISTRY_ONLY', 'ALLOW_ANY'] });
  c.object('spec.inboundConnectionPool', spec.inboundConnectionPool);
}
