// Validation as a grid: YAML in, message codes (and fields) out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, formatMessage, parseDuration } from '../../../galley/src/analysis/index.js';

const vs = (name: string, spec: string, ns = '') => `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: ${name}${ns ? `\n  namespace: ${ns}` : ''}
spec:
${spec}`;
const dr = (name: string, spec: string) => `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: ${name}
spec:
${spec}`;
const gw = (name: string, spec: string) => `apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: ${name}
spec:
${spec}`;
const reviewsDr = dr('reviews', `  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}`);
const route = (dest: string) => `  hosts: [reviews]
  http:
  - route:
    - destination: ${dest}`;

interface Case {
  name: string;
  yaml: string;
  codes: string[];
  fields?: string[];
}

const grid: Case[] = [
  { name: 'valid VirtualService', yaml: vs('reviews', route('{host: reviews}')), codes: [] },
  { name: 'hosts missing', yaml: vs('reviews', '  http:\n  - route:\n    - destination: {host: reviews}'), codes: ['IST0106'], fields: ['spec.hosts'] },
  { name: 'hosts empty', yaml: vs('reviews', '  hosts: []\n  http:\n  - route:\n    - destination: {host: reviews}'), codes: ['IST0106'], fields: ['spec.hosts'] },
  { name: 'http route without route or redirect', yaml: vs('reviews', '  hosts: [reviews]\n  http:\n  - timeout: 1s'), codes: ['IST0106'], fields: ['spec.http[0]'] },
  { name: 'route and redirect together', yaml: vs('reviews', `${route('{host: reviews}')}\n    redirect: {uri: /x}`), codes: ['IST0106'], fields: ['spec.http[0]'] },
  { name: 'destination.host required', yaml: vs('reviews', route('{subset: v1}')), codes: ['IST0106'], fields: ['spec.http[0].route[0].destination.host'] },
  {
    name: 'weight over 100', yaml: vs('reviews', `${route('{host: reviews}')}\n      weight: 150`),
    codes: ['IST0106'], fields: ['spec.http[0].route[0].weight'],
  },
  {
    name: 'weights must add up to 100', yaml: vs('reviews', `${route('{host: reviews}')}\n      weight: 80\n    - destination: {host: ratings}\n      weight: 10`),
    codes: ['IST0106'], fields: ['spec.http[0].route'],
  },
  {
    name: 'durations parse', yaml: vs('reviews', `${route('{host: reviews}')}\n    timeout: 0.5s\n    retries: {attempts: 3, perTryTimeout: 100ms}\n    fault: {delay: {fixedDelay: 1m, percent: 10}}\n  - route:\n    - destination: {host: reviews}\n    timeout: 1h`),
    codes: ['IST0130'],
  },
  { name: 'bad duration', yaml: vs('reviews', `${route('{host: reviews}')}\n    timeout: 1 sec`), codes: ['IST0106'], fields: ['spec.http[0].timeout'] },
  {
    name: 'string match with two of exact/prefix/regex', yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - match:\n    - uri: {exact: /a, prefix: /}\n    route:\n    - destination: {host: reviews}`),
    codes: ['IST0106'], fields: ['spec.http[0].match[0].uri'],
  },
  {
    name: 'empty uri match', yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - match:\n    - uri: {}\n    route:\n    - destination: {host: reviews}`),
    codes: ['IST0106'], fields: ['spec.http[0].match[0].uri'],
  },
  {
    name: 'regex must compile', yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        cookie: {regex: "^(.*?;)?(user=jason"}\n    route:\n    - destination: {host: reviews}`),
    codes: ['IST0106'], fields: ['spec.http[0].match[0].headers.cookie.regex'],
  },
  { name: 'subset without name', yaml: dr('reviews', '  host: reviews\n  subsets:\n  - labels: {version: v1}'), codes: ['IST0106'], fields: ['spec.subsets[0].name'] },
  { name: 'subset without labels warns', yaml: dr('reviews', '  host: reviews\n  subsets:\n  - name: all'), codes: ['IST0133'], fields: ['spec.subsets[0]'] },
  { name: 'label values are strings', yaml: dr('reviews', '  host: reviews\n  subsets:\n  - name: v1\n    labels: {version: 1.0}'), codes: ['IST0106'], fields: ['spec.subsets[0].labels.version'] },
  { name: 'DestinationRule host required', yaml: dr('reviews', '  subsets: []'), codes: ['IST0106'], fields: ['spec.host'] },
  { name: 'unknown load balancer', yaml: dr('reviews', '  host: reviews\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}'), codes: ['IST0106'], fields: ['spec.trafficPolicy.loadBalancer.simple'] },
  { name: 'Gateway needs servers', yaml: gw('gw', '  selector: {istio: ingressgateway}'), codes: ['IST0106'], fields: ['spec.servers'] },
  {
    name: 'Gateway server port, protocol and hosts', yaml: gw('gw', '  servers:\n  - port: {number: 70000, name: http}\n    hosts: []'),
    codes: ['IST0106', 'IST0106', 'IST0106'], fields: ['spec.servers[0].hosts', 'spec.servers[0].port.number', 'spec.servers[0].port.protocol'],
  },
  { name: 'HTTPS server needs tls', yaml: gw('gw', '  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ["*"]'), codes: ['IST0106'], fields: ['spec.servers[0]'] },
  { name: 'referenced subset not found', yaml: `${reviewsDr}\n---\n${vs('reviews', route('{host: reviews, subset: v3}'))}`, codes: ['IST0101'], fields: ['spec.http[0].route[0].destination.subset'] },
  { name: 'referenced subset found', yaml: `${reviewsDr}\n---\n${vs('reviews', route('{host: reviews.default.svc.cluster.local, subset: v2}'))}`, codes: [] },
  { name: 'referenced gateway not found', yaml: vs('bookinfo', `  hosts: ["*"]\n  gateways: [bookinfo-gateway]\n  http:\n  - route:\n    - destination: {host: productpage}`), codes: ['IST0101'], fields: ['spec.gateways[0]'] },
  {
    name: 'gateway found by name and by namespace/name',
    yaml: `${gw('bookinfo-gateway', '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]')}\n---\n${vs('a', '  hosts: [a.example.com]\n  gateways: [bookinfo-gateway]\n  http:\n  - route:\n    - destination: {host: productpage}')}\n---\n${vs('b', '  hosts: [b.example.com]\n  gateways: [default/bookinfo-gateway, mesh]\n  http:\n  - route:\n    - destination: {host: productpage}')}`,
    codes: [],
  },
  { name: 'conflicting VirtualServices for one host', yaml: `${vs('reviews-a', route('{host: reviews}'))}\n---\n${vs('reviews-b', '  hosts: [reviews.default.svc.cluster.local]\n  http:\n  - route:\n    - destination: {host: reviews}')}`, codes: ['IST0109', 'IST0109'] },
  {
    name: 'same host on different gateways is no conflict',
    yaml: `${vs('reviews-a', route('{host: reviews}'))}\n---\n${gw('gw', '  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]')}\n---\n${vs('reviews-b', '  hosts: [reviews]\n  gateways: [gw]\n  http:\n  - route:\n    - destination: {host: reviews}')}`,
    codes: [],
  },
  { name: 'unreachable rule after a catch-all', yaml: vs('reviews', `${route('{host: reviews}')}\n  - match:\n    - headers: {end-user: {exact: jason}}\n    route:\n    - destination: {host: reviews}`), codes: ['IST0130'], fields: ['spec.http[1]'] },
  {
    name: 'unreachable rule with the same match', yaml: vs('reviews', `  hosts: [reviews]\n  http:\n  - match:\n    - uri: {prefix: /a}\n    route:\n    - destination: {host: reviews}\n  - match:\n    - uri: {prefix: /a}\n    route:\n    - destination: {host: ratings}\n  - route:\n    - destination: {host: reviews}`),
    codes: ['IST0130'], fields: ['spec.http[1].match'],
  },
  {
    name: 'Istio 1.1 spellings load', yaml: vs('reviews', `${route('{host: reviews}')}\n      appendRequestHeaders: {x-a: b}\n    mirror: {host: reviews}\n    mirrorPercent: 10\n    fault:\n      abort: {httpStatus: 503, percent: 50}\n    appendHeaders: {x-b: c}\n    removeResponseHeaders: [x-c]\n    corsPolicy:\n      allowOrigin: ["*"]\n      maxAge: 24h\n    websocketUpgrade: true`),
    codes: [],
  },
  { name: 'a typo in a field name warns', yaml: vs('reviews', `${route('{host: reviews}')}\n      weigth: 100`), codes: ['IST0133'], fields: ['spec.http[0].route[0].weigth'] },
  { name: 'unsupported apiVersion', yaml: vs('reviews', route('{host: reviews}')).replace('v1alpha3', 'v9'), codes: ['IST0106'], fields: ['apiVersion'] },
  { name: 'invalid name', yaml: vs('Reviews_V1', route('{host: reviews}')), codes: ['IST0106'], fields: ['metadata.name'] },
  { name: 'unknown kind', yaml: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}', codes: ['MSH0004'] },
  // The first definition is fine but held back with the file: MSH0008 says so.
  { name: 'a resource defined twice in one file', yaml: `${reviewsDr}\n---\n${reviewsDr}`, codes: ['MSH0005', 'MSH0008'] },
  { name: 'YAML syntax error', yaml: 'kind: [', codes: ['MSH0001'] },
];

for (const c of grid) {
  test(`grid: ${c.name}`, () => {
    const messages = analyze([{ file: 'grid.yaml', text: c.yaml }]);
    const got = messages.map((m) => m.code).sort();
    assert.deepEqual(got, [...c.codes].sort(), messages.map(formatMessage).join('\n'));
    if (c.fields) assert.deepEqual(messages.map((m) => m.field).sort(), [...c.fields].sort());
    for (const m of messages) {
      assert.equal(m.file, 'grid.yaml');
      assert.ok(m.line && m.line >= 1, `${m.code} has a line`);
    }
  });
}

test('messages point at the line of the offending field', () => {
  const text = vs('reviews', `${route('{host: reviews}')}\n      weight: 150`);
  const [m] = analyze([{ file: 'reviews.yaml', text }]);
  assert.equal(m!.line, 10);
  assert.equal(formatMessage(m!),
    'Error [IST0106] (VirtualService default/reviews reviews.yaml:10) Schema validation error: spec.http[0].route[0].weight: must be an integer from 0 to 100, got 150');
});

test('durations: Istio and Go spellings', () => {
  assert.equal(parseDuration('1s'), 1000);
  assert.equal(parseDuration('0.5s'), 500);
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  for (const bad of ['', '1', 's', '-1s', '1 s', '1d', '1.s']) assert.equal(parseDuration(bad), undefined, bad);
});

test('analysis of resources without text (offline, already parsed)', () => {
  const messages = analyze([{
    apiVersion: 'networking.istio.io/v1alpha3', kind: 'VirtualService', metadata: { name: 'r', namespace: 'default' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] },
  }]);
  assert.deepEqual(messages.map((m) => m.code), ['IST0101']);
});
