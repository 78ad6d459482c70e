// The second grid: every kind and version of issue 3, field validation of the security,
// Sidecar, ServiceEntry/WorkloadEntry and Mixer kinds, and every cross-resource analyzer.
// YAML in, message codes (and where useful fields) out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, formatMessage, type AnalysisOptions } from '../../../galley/src/analysis/index.js';

const res = (apiVersion: string, kind: string, name: string, spec: string, ns = '') =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}${ns ? `\n  namespace: ${ns}` : ''}\nspec:\n${spec}`;
const net = (kind: string, name: string, spec: string, version = 'v1alpha3', ns = '') => res(`networking.istio.io/${version}`, kind, name, spec, ns);
const sec = (kind: string, name: string, spec: string, version = 'v1') => res(`security.istio.io/${version}`, kind, name, spec);
const mixer = (kind: string, name: string, spec: string, ns = '') => res('config.istio.io/v1alpha2', kind, name, spec, ns);
const vs = (name: string, spec: string, version = 'v1alpha3') => net('VirtualService', name, spec, version);
const routeTo = (dest: string) => `  hosts: [reviews]\n  http:\n  - route:\n    - destination: ${dest}`;
const se = (name: string, spec: string) => net('ServiceEntry', name, spec, 'v1');
const gw = (name: string, servers: string, selector = '{istio: ingressgateway}', ns = '') => net('Gateway', name, `  selector: ${selector}\n  servers:\n${servers}`, 'v1alpha3', ns);
const httpServer = (port: number, hosts: string) => `  - port: {number: ${port}, name: http, protocol: HTTP}\n    hosts: ${hosts}`;
const docs = (...d: string[]) => d.join('\n---\n');

interface Case { name: string; yaml: string; codes: string[]; fields?: string[]; options?: AnalysisOptions }

const reviews = { hostname: 'reviews.default.svc.cluster.local', ports: [{ number: 9080, protocol: 'HTTP' }] };

const grid: Case[] = [
  // ---- kinds and versions ----
  { name: 'VirtualService v1beta1', yaml: vs('r', routeTo('{host: reviews}'), 'v1beta1'), codes: [] },
  { name: 'VirtualService v1', yaml: vs('r', routeTo('{host: reviews}'), 'v1'), codes: [] },
  { name: 'DestinationRule v1', yaml: net('DestinationRule', 'r', '  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: v1}', 'v1'), codes: [] },
  { name: 'Gateway v1beta1', yaml: net('Gateway', 'g', `  selector: {istio: ingressgateway}\n  servers:\n${httpServer(80, '["*"]')}`, 'v1beta1'), codes: [] },
  { name: 'ServiceEntry v1', yaml: se('ext', '  hosts: [api.example.com]\n  ports:\n  - {number: 443, name: https, protocol: HTTPS}\n  resolution: DNS\n  location: MESH_EXTERNAL'), codes: [] },
  { name: 'WorkloadEntry v1alpha3', yaml: net('WorkloadEntry', 'vm', '  address: 10.0.0.7\n  labels: {app: ratings}\n  serviceAccount: bookinfo-ratings\n  ports: {http: 9080}'), codes: [] },
  { name: 'Sidecar v1beta1', yaml: net('Sidecar', 'default', '  egress:\n  - hosts: ["./*", "istio-system/*"]', 'v1beta1'), codes: [] },
  { name: 'PeerAuthentication v1beta1', yaml: sec('PeerAuthentication', 'default', '  mtls: {mode: STRICT}', 'v1beta1'), codes: [] },
  { name: 'AuthorizationPolicy v1beta1 (empty spec denies all)', yaml: sec('AuthorizationPolicy', 'deny-all', '  {}', 'v1beta1'), codes: [] },
  { name: 'RequestAuthentication v1', yaml: sec('RequestAuthentication', 'jwt', '  selector: {matchLabels: {app: httpbin}}\n  jwtRules:\n  - issuer: testing@secure.istio.io\n    jwksUri: https://example.com/jwks.json\n    fromHeaders: [{name: x-jwt, prefix: "Bearer "}]'), codes: [] },
  { name: 'security.istio.io/v1alpha1 is not a version', yaml: sec('PeerAuthentication', 'default', '  mtls: {mode: STRICT}', 'v1alpha1'), codes: ['IST0106'], fields: ['apiVersion'] },
  { name: 'Mixer handler, instance, rule (generic kinds)', yaml: docs(
    mixer('handler', 'h', '  compiledAdapter: denier\n  params: {status: {code: 7, message: denied}}'),
    mixer('instance', 'i', '  compiledTemplate: checknothing'),
    mixer('rule', 'r', '  match: destination.labels["app"] == "ratings"\n  actions:\n  - handler: h\n    instances: [i]')), codes: [] },
  { name: 'Mixer adapter and template kinds (listchecker, listentry)', yaml: docs(
    mixer('listchecker', 'whitelist', '  overrides: ["v1", "v2"]\n  blacklist: false'),
    mixer('listentry', 'appversion', '  value: source.labels["version"]'),
    mixer('rule', 'checkversion', '  match: destination.labels["app"] == "ratings"\n  actions:\n  - handler: whitelist.listchecker\n    instances: [appversion.listentry]')), codes: [] },
  { name: 'Mixer telemetry kinds (stdio, logentry, tracespan, kubernetesenv)', yaml: docs(
    mixer('stdio', 'h', '  outputAsJson: true\n  severityLevels: {warning: 1}'),
    mixer('logentry', 'access', '  severity: \'"warning"\'\n  timestamp: request.time\n  variables:\n    source: source.labels["app"] | "unknown"\n    code: response.code | 0'),
    mixer('tracespan', 'span', '  traceId: request.headers["x-b3-traceid"]\n  spanName: destination.service.host'),
    mixer('kubernetesenv', 'k8s', '  {}'),
    mixer('rule', 'log', '  actions:\n  - handler: h.stdio\n    instances: [access.logentry]')), codes: [] },
  { name: 'QuotaSpec and QuotaSpecBinding', yaml: docs(
    mixer('QuotaSpec', 'request-count', '  rules:\n  - quotas:\n    - {charge: 1, quota: requestcount}'),
    mixer('QuotaSpecBinding', 'request-count', '  quotaSpecs:\n  - {name: request-count}\n  services:\n  - name: ratings')), codes: [] },

  // ---- field validation: Sidecar ----
  { name: 'Sidecar egress host needs namespace/', yaml: net('Sidecar', 's', '  egress:\n  - hosts: [reviews]'), codes: ['IST0106'], fields: ['spec.egress[0].hosts[0]'] },
  { name: 'Sidecar: two egress listeners without a port', yaml: net('Sidecar', 's', '  egress:\n  - hosts: ["./*"]\n  - hosts: ["istio-system/*"]'), codes: ['IST0106'], fields: ['spec.egress[1]'] },
  { name: 'Sidecar ingress: port required, default endpoint shape', yaml: net('Sidecar', 's', '  workloadSelector: {labels: {app: reviews}}\n  ingress:\n  - defaultEndpoint: 10.1.1.1:9080'), codes: ['IST0106', 'IST0106'], fields: ['spec.ingress[0].defaultEndpoint', 'spec.ingress[0].port'] },
  { name: 'Sidecar outboundTrafficPolicy mode', yaml: net('Sidecar', 's', '  outboundTrafficPolicy: {mode: DENY}'), codes: ['IST0106'], fields: ['spec.outboundTrafficPolicy.mode'] },
  { name: 'Sidecar workloadSelector with a bad label key', yaml: net('Sidecar', 's', '  workloadSelector: {labels: {"-app": reviews}}\n  egress:\n  - hosts: ["./*"]'), codes: ['IST0106'], fields: ['spec.workloadSelector.labels["-app"]'] },

  // ---- field validation: security ----
  { name: 'PeerAuthentication mode', yaml: sec('PeerAuthentication', 'p', '  mtls: {mode: ON}'), codes: ['IST0106'], fields: ['spec.mtls.mode'] },
  { name: 'PeerAuthentication portLevelMtls needs a selector and port keys', yaml: sec('PeerAuthentication', 'p', '  portLevelMtls:\n    "http": {mode: DISABLE}'), codes: ['IST0106', 'IST0106'], fields: ['spec.portLevelMtls', 'spec.portLevelMtls.http'] },
  { name: 'PeerAuthentication with selector and portLevelMtls', yaml: sec('PeerAuthentication', 'p', '  selector: {matchLabels: {app: reviews}}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    9080: {mode: PERMISSIVE}'), codes: [] },
  { name: 'AuthorizationPolicy action', yaml: sec('AuthorizationPolicy', 'a', '  action: REJECT'), codes: ['IST0106'], fields: ['spec.action'] },
  { name: 'AuthorizationPolicy CUSTOM needs a provider; a provider needs CUSTOM', yaml: docs(sec('AuthorizationPolicy', 'a', '  action: CUSTOM\n  rules: [{}]'), sec('AuthorizationPolicy', 'b', '  action: ALLOW\n  provider: {name: ext}\n  rules: [{}]')), codes: ['IST0106', 'IST0106'], fields: ['spec.provider', 'spec.provider'] },
  { name: 'AuthorizationPolicy empty source', yaml: sec('AuthorizationPolicy', 'a', '  rules:\n  - from:\n    - source: {}'), codes: ['IST0106'], fields: ['spec.rules[0].from[0].source'] },
  { name: 'AuthorizationPolicy ipBlocks, ports and paths', yaml: sec('AuthorizationPolicy', 'a', '  rules:\n  - from:\n    - source: {ipBlocks: ["10.0.0.0/33"]}\n    to:\n    - operation: {ports: ["http"], paths: ["/a/*/b", "/x/{foo}"]}'),
    codes: ['IST0106', 'IST0106', 'IST0106', 'IST0106'], fields: ['spec.rules[0].from[0].source.ipBlocks[0]', 'spec.rules[0].to[0].operation.paths[0]', 'spec.rules[0].to[0].operation.paths[1]', 'spec.rules[0].to[0].operation.ports[0]'] },
  { name: 'AuthorizationPolicy condition key and values', yaml: sec('AuthorizationPolicy', 'a', '  rules:\n  - when:\n    - key: request.user\n      values: [x]\n    - key: request.headers[x-user]'), codes: ['IST0106', 'IST0106'], fields: ['spec.rules[0].when[0].key', 'spec.rules[0].when[1]'] },
  { name: 'AuthorizationPolicy typo warns', yaml: sec('AuthorizationPolicy', 'a', '  rules:\n  - to:\n    - operation: {methods: [GET], path: [/x]}'), codes: ['IST0133'], fields: ['spec.rules[0].to[0].operation.path'] },
  { name: 'RequestAuthentication issuer, jwksUri, jwks', yaml: sec('RequestAuthentication', 'r', '  jwtRules:\n  - jwksUri: ftp://x/jwks\n  - issuer: a\n    jwks: "{not json"\n  - issuer: b\n    jwks: \'{"k": 1}\''),
    codes: ['IST0106', 'IST0106', 'IST0106', 'IST0106'], fields: ['spec.jwtRules[0].issuer', 'spec.jwtRules[0].jwksUri', 'spec.jwtRules[1].jwks', 'spec.jwtRules[2].jwks'] },

  // ---- field validation: ServiceEntry / WorkloadEntry ----
  { name: 'ServiceEntry port numbers and names are unique', yaml: se('s', '  hosts: [a.example.com]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 80, name: http, protocol: TCP}\n  resolution: DNS'),
    codes: ['IST0106', 'IST0106'], fields: ['spec.ports[1].name', 'spec.ports[1].number'] },
  { name: 'ServiceEntry resolution NONE cannot have endpoints', yaml: se('s', '  hosts: [a.example.com]\n  addresses: [10.1.0.0/16]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  endpoints: [{address: 10.1.0.1}]'), codes: ['IST0106'], fields: ['spec.endpoints'] },
  { name: 'ServiceEntry STATIC endpoints are IPs and use declared port names', yaml: se('s', '  hosts: [a.example.com]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints:\n  - {address: db.example.com, ports: {grpc: 8080}}'),
    codes: ['IST0106', 'IST0106'], fields: ['spec.endpoints[0].address', 'spec.endpoints[0].ports.grpc'] },
  { name: 'ServiceEntry DNS wildcard without endpoints', yaml: se('s', '  hosts: ["*.example.com"]\n  ports: [{number: 443, name: https, protocol: HTTPS}]\n  resolution: DNS'), codes: ['IST0106'], fields: ['spec.hosts[0]'] },
  { name: 'ServiceEntry addresses must be IPs or CIDRs', yaml: se('s', '  hosts: [a.example.com]\n  addresses: [10.0.0.300]\n  ports: [{number: 80, name: http, protocol: HTTP}]'), codes: ['IST0106'], fields: ['spec.addresses[0]'] },
  { name: 'WorkloadEntry labels and weight', yaml: net('WorkloadEntry', 'w', '  address: 10.0.0.1\n  labels: {app: "has space"}\n  weight: -1'), codes: ['IST0106', 'IST0106'], fields: ['spec.labels.app', 'spec.weight'] },

  // ---- field validation: shared rules ----
  { name: 'regex: RE2 refuses lookahead', yaml: vs('r', '  hosts: [reviews]\n  http:\n  - match:\n    - uri: {regex: "/(?!admin).*"}\n    route:\n    - destination: {host: reviews}'), codes: ['IST0106'], fields: ['spec.http[0].match[0].uri.regex'] },
  { name: 'regex: backreferences refused', yaml: vs('r', '  hosts: [reviews]\n  http:\n  - match:\n    - headers: {x: {regex: "(a)\\\\1"}}\n    route:\n    - destination: {host: reviews}'), codes: ['IST0106'], fields: ['spec.http[0].match[0].headers.x.regex'] },
  { name: 'durations must be positive', yaml: vs('r', `${routeTo('{host: reviews}')}\n    timeout: 0s`), codes: ['IST0106'], fields: ['spec.http[0].timeout'] },
  { name: 'Gateway selector values are label values', yaml: gw('g', httpServer(80, '["*"]'), '{istio: "ingress gateway"}'), codes: ['IST0106'], fields: ['spec.selector.istio'] },
  { name: 'DestinationRule outlier detection percent and Istio 1.1 consecutiveErrors', yaml: net('DestinationRule', 'd', '  host: reviews\n  trafficPolicy:\n    outlierDetection: {consecutiveErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 150}'), codes: ['IST0106'], fields: ['spec.trafficPolicy.outlierDetection.maxEjectionPercent'] },

  // ---- field validation: Mixer ----
  { name: 'Mixer rule: handler required, match must be an expression', yaml: mixer('rule', 'r', '  match: destination.labels["app" == "x"\n  actions:\n  - instances: [i]'), codes: ['IST0106', 'IST0106'], fields: ['spec.actions[0].handler', 'spec.match'] },
  { name: 'Mixer handler needs an adapter', yaml: mixer('handler', 'h', '  params: {}'), codes: ['IST0106'], fields: ['spec'] },
  { name: 'Mixer metric instance needs a value', yaml: mixer('instance', 'm', '  compiledTemplate: metric\n  params:\n    dimensions: {source: source.workload.name}'), codes: ['IST0106'], fields: ['spec.params.value'] },
  { name: 'memquota amounts and durations', yaml: mixer('memquota', 'h', '  quotas:\n  - name: q\n    maxAmount: -1\n    validDuration: soon'), codes: ['IST0106', 'IST0106'], fields: ['spec.quotas[0].maxAmount', 'spec.quotas[0].validDuration'] },
  { name: 'denier status code', yaml: mixer('denier', 'h', '  status: {code: 99}'), codes: ['IST0106'], fields: ['spec.status.code'] },
  { name: 'listchecker entryType', yaml: mixer('listchecker', 'h', '  entryType: WORDS'), codes: ['IST0106'], fields: ['spec.entryType'] },
  { name: 'QuotaSpec charge and quotas', yaml: mixer('QuotaSpec', 'q', '  rules:\n  - quotas:\n    - {quota: rc, charge: -2}\n  - quotas: []'), codes: ['IST0106', 'IST0106'], fields: ['spec.rules[0].quotas[0].charge', 'spec.rules[1].quotas'] },
  { name: 'QuotaSpecBinding needs services', yaml: mixer('QuotaSpecBinding', 'b', '  quotaSpecs: [{name: q}]'), codes: ['IST0106'], fields: ['spec.services'] },

  // ---- analyzers ----
  { name: 'IST0101 host not found (services known)', yaml: vs('r', routeTo('{host: reviewz}')), options: { services: [reviews] }, codes: ['IST0101'], fields: ['spec.http[0].route[0].destination.host'] },
  { name: 'known service and ServiceEntry hosts are found', yaml: docs(vs('r', `${routeTo('{host: reviews}')}\n    mirror: {host: api.example.com}`), se('ext', '  hosts: [api.example.com]\n  ports: [{number: 443, name: https, protocol: HTTPS}]\n  resolution: DNS')), options: { services: [reviews] }, codes: [] },
  { name: 'IST0101 DestinationRule host not found (services known)', yaml: net('DestinationRule', 'd', '  host: ratingz'), options: { services: [reviews] }, codes: ['IST0101'], fields: ['spec.host'] },
  { name: 'host checks are off without known services', yaml: vs('r', routeTo('{host: reviewz}')), codes: [] },
  { name: 'IST0112 port selector required', yaml: docs(se('db', '  hosts: [db.example.com]\n  addresses: [10.9.0.1]\n  ports:\n  - {number: 80, name: http, protocol: HTTP}\n  - {number: 8080, name: http-alt, protocol: HTTP}\n  resolution: DNS'), vs('db', '  hosts: [db.example.com]\n  http:\n  - route:\n    - destination: {host: db.example.com}')),
    codes: ['IST0112'], fields: ['spec.http[0].route[0].destination'] },
  { name: 'IST0101 Mixer handler and instance not found', yaml: mixer('rule', 'r', '  actions:\n  - handler: nohandler.denier\n    instances: [nothing.checknothing]'), codes: ['IST0101', 'IST0101'], fields: ['spec.actions[0].handler', 'spec.actions[0].instances[0]'] },
  { name: 'Mixer references across namespaces', yaml: docs(mixer('denier', 'h', '  status: {code: 7}', 'istio-system'), mixer('checknothing', 'i', '  {}', 'istio-system'), mixer('rule', 'r', '  actions:\n  - handler: h.denier.istio-system\n    instances: [i.checknothing.istio-system]')), codes: [] },
  { name: 'IST0101 QuotaSpec not found', yaml: mixer('QuotaSpecBinding', 'b', '  quotaSpecs: [{name: missing, namespace: istio-system}]\n  services: [{name: ratings}]'), codes: ['IST0101'], fields: ['spec.quotaSpecs[0]'] },
  { name: 'IST0111 two Sidecars without selector', yaml: docs(net('Sidecar', 'a', '  egress:\n  - hosts: ["./*"]'), net('Sidecar', 'b', '  egress:\n  - hosts: ["*/*"]')), codes: ['IST0111', 'IST0111'] },
  { name: 'IST0110 two Sidecars with the same selector', yaml: docs(net('Sidecar', 'a', '  workloadSelector: {labels: {app: reviews}}\n  egress:\n  - hosts: ["./*"]'), net('Sidecar', 'b', '  workloadSelector: {labels: {app: reviews}}\n  egress:\n  - hosts: ["./*"]')), codes: ['IST0110', 'IST0110'] },
  { name: 'IST0116 workload behind two ServiceEntries with different protocols on one port', yaml: docs(
    net('WorkloadEntry', 'vm', '  address: 10.0.0.9\n  labels: {app: db}'),
    se('db-http', '  hosts: [db-http.example.com]\n  ports: [{number: 3306, name: http, protocol: HTTP}]\n  resolution: STATIC\n  workloadSelector: {labels: {app: db}}'),
    se('db-tcp', '  hosts: [db-tcp.example.com]\n  addresses: [10.9.0.2]\n  ports: [{number: 3306, name: mysql, protocol: TCP}]\n  resolution: STATIC\n  workloadSelector: {labels: {app: db}}')),
  codes: ['IST0116'], fields: ['spec.labels'] },
  { name: 'MSH0011 one host, one port, two protocols', yaml: docs(
    se('a', '  hosts: [db.example.com]\n  addresses: [10.9.0.3]\n  ports: [{number: 5432, name: tcp, protocol: TCP}]\n  resolution: DNS'),
    se('b', '  hosts: [db.example.com]\n  ports: [{number: 5432, name: http, protocol: HTTP}]\n  resolution: DNS')),
  codes: ['MSH0011', 'MSH0011'] },
  { name: 'IST0128 TLS origination without caCertificates', yaml: net('DestinationRule', 'd', '  host: api.example.com\n  trafficPolicy:\n    tls: {mode: SIMPLE}'), codes: ['IST0128'], fields: ['spec.trafficPolicy.tls'] },
  { name: 'IST0129 at port level', yaml: net('DestinationRule', 'd', '  host: api.example.com\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 443}\n      tls: {mode: SIMPLE}'), codes: ['IST0129'], fields: ['spec.trafficPolicy.portLevelSettings[0].tls'] },
  { name: 'TLS origination with caCertificates is verified', yaml: net('DestinationRule', 'd', '  host: api.example.com\n  trafficPolicy:\n    tls: {mode: SIMPLE, caCertificates: /etc/certs/ca.pem}'), codes: [] },
  { name: 'IST0131 one match repeats an earlier rule', yaml: vs('r', '  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /a}\n    route:\n    - destination: {host: reviews}\n  - match:\n    - uri: {prefix: /a}\n    - uri: {prefix: /b}\n    route:\n    - destination: {host: reviews}'),
    codes: ['IST0131'], fields: ['spec.http[1].match[0]'] },
  { name: 'IST0132 VirtualService host not served by its Gateway', yaml: docs(gw('gw', httpServer(80, '[bookinfo.example.com]')), vs('v', '  hosts: [shop.example.com]\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: productpage}')),
    codes: ['IST0132'], fields: ['spec.gateways[0]'] },
  { name: 'Gateway host namespace prefix selects VirtualServices', yaml: docs(gw('gw', httpServer(80, '["default/*.example.com"]')), vs('v', '  hosts: [shop.example.com]\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: productpage}')), codes: [] },
  { name: 'IST0134 TCP ServiceEntry without addresses', yaml: se('s', '  hosts: [db.example.com]\n  ports: [{number: 5432, name: tcp-pg, protocol: TCP}]\n  resolution: DNS'), codes: ['IST0134'], fields: ['spec.ports[0].protocol'] },
  { name: 'IST0138 two Gateways share a certificate', yaml: docs(
    gw('a', '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: SIMPLE, credentialName: wildcard-cert}'),
    gw('b', '  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [b.example.com]\n    tls: {mode: SIMPLE, credentialName: wildcard-cert}', '{istio: other}')),
  codes: ['IST0138', 'IST0138'] },
  { name: 'IST0145 Gateways with one selector, port and host', yaml: docs(gw('a', httpServer(80, '["*"]')), gw('b', httpServer(80, '[shop.example.com]'))), codes: ['IST0145', 'IST0145'] },
  { name: 'different ports or selectors do not conflict', yaml: docs(gw('a', httpServer(80, '["*"]')), gw('b', httpServer(8080, '["*"]')), gw('c', httpServer(80, '["*"]'), '{istio: egressgateway}')), codes: [] },
  { name: 'MSH0010 two DestinationRules for one host', yaml: docs(net('DestinationRule', 'a', '  host: reviews\n  subsets:\n  - {name: v1, labels: {version: v1}}'), net('DestinationRule', 'b', '  host: reviews.default.svc.cluster.local\n  trafficPolicy: {loadBalancer: {simple: RANDOM}}')),
    codes: ['MSH0010', 'MSH0010'] },
  { name: 'MSH0008 a bad document holds its good siblings back, and says so', yaml: docs(vs('good', routeTo('{host: reviews}')), vs('bad', `${routeTo('{host: reviews}')}\n      weight: 150`).replace('[reviews]', '[ratings]')),
    codes: ['IST0106', 'MSH0008'] },
];

for (const c of grid) {
  test(`grid: ${c.name}`, () => {
    const messages = analyze([{ file: 'grid.yaml', text: c.yaml }], c.options);
    assert.deepEqual(messages.map((m) => m.code).sort(), [...c.codes].sort(), messages.map(formatMessage).join('\n'));
    if (c.fields) assert.deepEqual(messages.map((m) => m.field).sort(), [...c.fields].sort(), messages.map(formatMessage).join('\n'));
    for (const m of messages) {
      assert.equal(m.file, 'grid.yaml');
      assert.ok(m.line && m.line >= 1, `${m.code} has a line`);
    }
  });
}

test('the grid covers every kind the mesh knows and every analyzer code', async () => {
  const { knownKinds } = await import('#api');
  const all = grid.map((c) => c.yaml).join('\n');
  for (const kind of ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'WorkloadEntry', 'Sidecar', 'PeerAuthentication',
    'AuthorizationPolicy', 'RequestAuthentication', 'handler', 'instance', 'rule', 'QuotaSpec', 'QuotaSpecBinding']) {
    assert.ok(knownKinds[kind], kind);
    assert.match(all, new RegExp(`kind: ${kind}\\n`), kind);
  }
  const codes = new Set(grid.flatMap((c) => c.codes));
  for (const code of ['IST0101', 'IST0106', 'IST0110', 'IST0111', 'IST0112', 'IST0116', 'IST0128', 'IST0129', 'IST0131', 'IST0132', 'IST0133', 'IST0134', 'IST0138', 'IST0145', 'MSH0008', 'MSH0010', 'MSH0011']) {
    assert.ok(codes.has(code), code);
  }
});

test('a message carries code, resource, file:line and field path in Istio\'s format', () => {
  const text = sec('AuthorizationPolicy', 'a', '  action: ALLOW\n  rules:\n  - to:\n    - operation: {ports: ["http"]}');
  const [m] = analyze([{ file: 'compose/config/authz.yaml', text }]);
  assert.equal(formatMessage(m!),
    'Error [IST0106] (AuthorizationPolicy default/a compose/config/authz.yaml:9) Schema validation error: spec.rules[0].to[0].operation.ports[0]: "http" is not a port (1-65535)');
  assert.equal(m!.field, 'spec.rules[0].to[0].operation.ports[0]');
});
