// Gateway field validation: servers with a port (number, protocol) and hosts.

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';

const protocols = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'TCP', 'TLS'];
const serverHost = /^([a-z0-9.*-]+\/)?(\*|(\*\.)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

export function validateGateway(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['selector', 'servers']);
  c.labels('spec.selector', spec.selector);
  const names = new Set<string>();
  c.list('spec.servers', spec.servers, { required: true, nonEmpty: true })?.forEach((s, i) => {
    const p = `spec.servers[${i}]`;
    const o = c.object(p, s, true, ['port', 'bind', 'hosts', 'tls', 'defaultEndpoint', 'name']);
    if (!o) return;
    const port = c.object(at(p, 'port'), o.port, true, ['number', 'protocol', 'name', 'targetPort']);
    let protocol: string | undefined;
    if (port) {
      c.port(at(at(p, 'port'), 'number'), port.number, true);
      protocol = c.string(at(at(p, 'port'), 'protocol'), port.protocol, { required: true, oneOf: protocols, ignoreCase: true })?.toUpperCase();
      c.string(at(at(p, 'port'), 'name'), port.name);
      c.port(at(at(p, 'port'), 'targetPort'), port.targetPort);
    }
    c.strings(at(p, 'hosts'), o.hosts, { required: true, nonEmpty: true })?.forEach((h, j) => {
      if (h !== '' && !serverHost.test(h)) c.error(at(at(p, 'hosts'), j), `${JSON.stringify(h)} is not a valid host ([namespace/]host, "*" allowed)`);
    });
    c.string(at(p, 'bind'), o.bind);
    const name = c.string(at(p, 'name'), o.name);
    if (name !== undefined) {
      if (names.has(name)) c.error(at(p, 'name'), `duplicate server name ${JSON.stringify(name)}`);
      names.add(name);
    }
    const tls = c.object(at(p, 'tls'), o.tls, false, ['httpsRedirect', 'mode', 'serverCertificate', 'privateKey', 'caCertificates',
      'credentialName', 'subjectAltNames', 'verifyCertificateSpki', 'verifyCertificateHash', 'minProtocolVersion', 'maxProtocolVersion', 'cipherSuites']);
    if (tls) {
      c.bool(at(at(p, 'tls'), 'httpsRedirect'), tls.httpsRedirect);
      c.string(at(at(p, 'tls'), 'mode'), tls.mode, { oneOf: ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] });
    }
    if ((protocol === 'HTTPS' || protocol === 'TLS') && !tls) c.error(p, `a ${protocol} server needs tls settings`);
  });
}
