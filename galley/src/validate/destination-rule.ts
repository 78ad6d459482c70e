// DestinationRule field validation: the host, subsets (named, with labels) and traffic policy.

import { childPath as at } from '../field-path.js';
import { FieldChecker, type Obj } from './checks.js';
import { checkHost } from './virtual-service.js';

const subsetName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

function checkLoadBalancer(c: FieldChecker, path: string, v: unknown): void {
  const lb = c.object(path, v, false, ['simple', 'consistentHash', 'localityLbSetting', 'warmupDurationSecs']);
  if (!lb) return;
  c.string(at(path, 'simple'), lb.simple, { oneOf: ['ROUND_ROBIN', 'LEAST_CONN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH', 'UNSPECIFIED'] });
  const ch = c.object(at(path, 'consistentHash'), lb.consistentHash, false,
    ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName', 'minimumRingSize', 'ringHash', 'maglev']);
  if (ch) {
    const p = at(path, 'consistentHash');
    c.string(at(p, 'httpHeaderName'), ch.httpHeaderName, { nonEmpty: true });
    c.string(at(p, 'httpQueryParameterName'), ch.httpQueryParameterName, { nonEmpty: true });
    c.bool(at(p, 'useSourceIp'), ch.useSourceIp);
    c.int(at(p, 'minimumRingSize'), ch.minimumRingSize, 0);
    const cookie = c.object(at(p, 'httpCookie'), ch.httpCookie, false, ['name', 'path', 'ttl']);
    if (cookie) {
      c.string(at(at(p, 'httpCookie'), 'name'), cookie.name, { required: true });
      c.string(at(at(p, 'httpCookie'), 'path'), cookie.path);
      c.duration(at(at(p, 'httpCookie'), 'ttl'), cookie.ttl);
    }
  }
}

function checkConnectionPool(c: FieldChecker, path: string, v: unknown): void {
  const cp = c.object(path, v, false, ['tcp', 'http']);
  if (!cp) return;
  const tcp = c.object(at(path, 'tcp'), cp.tcp, false, ['maxConnections', 'connectTimeout', 'tcpKeepalive', 'maxConnectionDuration', 'idleTimeout']);
  if (tcp) {
    c.int(at(at(path, 'tcp'), 'maxConnections'), tcp.maxConnections, 0);
    c.duration(at(at(path, 'tcp'), 'connectTimeout'), tcp.connectTimeout);
    c.duration(at(at(path, 'tcp'), 'maxConnectionDuration'), tcp.maxConnectionDuration);
    c.duration(at(at(path, 'tcp'), 'idleTimeout'), tcp.idleTimeout);
  }
  const http = c.object(at(path, 'http'), cp.http, false, ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection',
    'maxRetries', 'idleTimeout', 'h2UpgradePolicy', 'useClientProtocol', 'maxConcurrentStreams']);
  if (http) {
    for (const k of ['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'maxConcurrentStreams'] as const) {
      c.int(at(at(path, 'http'), k), http[k], 0);
    }
    c.duration(at(at(path, 'http'), 'idleTimeout'), http.idleTimeout);
    c.string(at(at(path, 'http'), 'h2UpgradePolicy'), http.h2UpgradePolicy, { oneOf: ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] });
  }
}

function checkOutlierDetection(c: FieldChecker, path: string, v: unknown): void {
  const od = c.object(path, v, false, ['consecutiveErrors', 'consecutive5xxErrors', 'consecutiveGatewayErrors', 'consecutiveLocalOriginFailures',
    'splitExternalLocalOriginErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'minHealthPercent']);
  if (!od) return;
  for (const k of ['consecutiveErrors', 'consecutive5xxErrors', 'consecutiveGatewayErrors', 'consecutiveLocalOriginFailures'] as const) {
    c.int(at(path, k), od[k], 0);
  }
  c.duration(at(path, 'interval'), od.interval);
  c.duration(at(path, 'baseEjectionTime'), od.baseEjectionTime);
  c.int(at(path, 'maxEjectionPercent'), od.maxEjectionPercent, 0, 100);
  c.int(at(path, 'minHealthPercent'), od.minHealthPercent, 0, 100);
}

function checkClientTls(c: FieldChecker, path: string, v: unknown): void {
  const tls = c.object(path, v, false, ['mode', 'clientCertificate', 'privateKey', 'caCertificates', 'credentialName', 'subjectAltNames',
    'sni', 'insecureSkipVerify', 'caCrl']);
  if (!tls) return;
  c.string(at(path, 'mode'), tls.mode, { oneOf: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] });
  if (tls.mode === 'MUTUAL' && tls.credentialName === undefined && (tls.clientCertificate === undefined || tls.privateKey === undefined)) {
    c.error(path, 'mode MUTUAL needs clientCertificate and privateKey (or credentialName)');
  }
  c.strings(at(path, 'subjectAltNames'), tls.subjectAltNames);
  c.string(at(path, 'sni'), tls.sni);
}

const policyFields = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol'];

function checkTrafficPolicy(c: FieldChecker, path: string, v: unknown, portLevel = false): void {
  const tp = c.object(path, v, false, portLevel ? ['port', ...policyFields] : policyFields);
  if (!tp) return;
  checkLoadBalancer(c, at(path, 'loadBalancer'), tp.loadBalancer);
  checkConnectionPool(c, at(path, 'connectionPool'), tp.connectionPool);
  checkOutlierDetection(c, at(path, 'outlierDetection'), tp.outlierDetection);
  checkClientTls(c, at(path, 'tls'), tp.tls);
  if (portLevel) {
    const port = c.object(at(path, 'port'), tp.port, true, ['number', 'name']);
    if (port) c.port(at(at(path, 'port'), 'number'), port.number, true);
    if (tp.portLevelSettings !== undefined) c.error(at(path, 'portLevelSettings'), 'cannot be nested');
  } else {
    c.list(at(path, 'portLevelSettings'), tp.portLevelSettings)?.forEach((p, i) => checkTrafficPolicy(c, at(at(path, 'portLevelSettings'), i), p, true));
  }
}

export function validateDestinationRule(spec: Obj, c: FieldChecker): void {
  c.known('spec', spec, ['host', 'trafficPolicy', 'subsets', 'exportTo', 'workloadSelector']);
  checkHost(c, 'spec.host', spec.host);
  checkTrafficPolicy(c, 'spec.trafficPolicy', spec.trafficPolicy);
  c.strings('spec.exportTo', spec.exportTo);
  c.selector('spec.workloadSelector', spec.workloadSelector, 'matchLabels');
  const seen = new Set<string>();
  c.list('spec.subsets', spec.subsets)?.forEach((s, i) => {
    const p = `spec.subsets[${i}]`;
    const o = c.object(p, s, true, ['name', 'labels', 'trafficPolicy']);
    if (!o) return;
    const name = c.string(at(p, 'name'), o.name, { required: true });
    if (name !== undefined) {
      if (!subsetName.test(name)) c.error(at(p, 'name'), `${JSON.stringify(name)} is not a valid subset name (letters, digits and '-')`);
      if (seen.has(name)) c.error(at(p, 'name'), `duplicate subset name ${JSON.stringify(name)}`);
      seen.add(name);
    }
    if (o.labels === undefined) c.warn(p, 'subset has no labels: it selects every endpoint of the host');
    else {
      const labels = c.labels(at(p, 'labels'), o.labels);
      if (labels && Object.keys(labels).length === 0) c.warn(at(p, 'labels'), 'subset has no labels: it selects every endpoint of the host');
    }
    checkTrafficPolicy(c, at(p, 'trafficPolicy'), o.trafficPolicy);
  });
}
