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
      const tp = at(p, 'tls');
      c.bool(at(tp, 'httpsRedirect'), tls.httpsRedirect);
      const mode = c.string(at(tp, 'mode'), tls.mode, { oneOf: ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] });
      const files: Record<string, string | undefined> = {};
      for (const k of ['serverCertificate', 'privateKey', 'caCertificates', 'credentialName'] as const) files[k] = c.string(at(tp, k), tls[k], { nonEmpty: true });
      c.strings(at(tp, 'subjectAltNames'), tls.subjectAltNames);
      c.strings(at(tp, 'cipherSuites'), tls.cipherSuites);
      for (const k of ['minProtocolVersion', 'maxProtocolVersion'] as const) c.string(at(tp, k), tls[k], { oneOf: ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] });
      // Istio's rules for terminated TLS: a certificate and key (files or a credential), and for
      // MUTUAL the CA that verifies clients.
      if ((mode === 'SIMPLE' || mode === 'MUTUAL') && !files.credentialName) {
        if (!files.serverCertificate) c.error(at(tp, 'serverCertificate'), `${mode} TLS requires serverCertificate (or credentialName)`);
        if (!files.privateKey) c.error(at(tp, 'privateKey'), `${mode} TLS requires privateKey (or credentialName)`);
        if (mode === 'MUTUAL' && !files.caCertificates) c.error(at(tp, 'caCertificates'), 'MUTUAL TLS requires caCertificates (or credentialName)');
      }
      if (protocol === 'HTTPS' && mode !== undefined && mode !== 'SIMPLE' && mode !== 'MUTUAL') {
        c.warn(at(tp, 'mode'), `the gateway terminates HTTPS with SIMPLE or MUTUAL only; a ${mode} server on an HTTPS port gets no listener`);
      }
      if (tls.httpsRedirect === true && protocol !== undefined && protocol !== 'HTTP') c.warn(at(tp, 'httpsRedirect'), `httpsRedirect applies to HTTP servers; this one is ${protocol}`);
    }
    if ((protocol === 'HTTPS' || protocol === 'TLS') && !tls) c.error(p, `a ${protocol} server needs tls settings`);
  });
}
