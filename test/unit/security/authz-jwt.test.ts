// The sidecar's policy engine on its own: authorization semantics (DENY before ALLOW, AUDIT,
// from/to/when, fail-closed on unknown keys), JWT verification, and the escaped-slash option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import type { AuthzPolicy } from '#api';
import { authorize, conditionValues, type AuthzRequest } from '../../../sidecar/src/layers/authz.js';
import { JwtError, parseJwks, verifyJwt } from '../../../sidecar/src/layers/jwt.js';
import { normalizePath } from '../../../sidecar/src/layers/normalize.js';
import { compileInboundPolicy } from '../../../sidecar/src/inbound-policy.js';

const req = (over: Partial<AuthzRequest> = {}): AuthzRequest => ({
  principal: 'spiffe://cluster.local/ns/default/sa/sleep', sourceIp: '::ffff:10.0.0.5', destinationIp: '10.0.0.9',
  method: 'GET', host: 'httpbin:8000', path: '/get', ports: [8000, 18000], headers: { 'x-token': 'abc' }, ...over,
});

const allow = (rules: AuthzPolicy['rules'], name = 'allow'): AuthzPolicy => ({ name, action: 'ALLOW', rules });
const deny = (rules: AuthzPolicy['rules'], name = 'deny'): AuthzPolicy => ({ name, action: 'DENY', rules });

test('no policy allows; an ALLOW with no rules denies all; an ALLOW with an empty rule allows all', () => {
  assert.equal(authorize([], req()).allowed, true);
  assert.equal(authorize([allow([])], req()).allowed, false);
  assert.equal(authorize([allow([{}])], req()).allowed, true);
  assert.equal(authorize([deny([])], req()).allowed, true);
});

test('DENY is evaluated before ALLOW; AUDIT only reports', () => {
  const d = authorize([allow([{}]), deny([{ to: [{ methods: [{ exact: 'GET' }] }] }]), { name: 'audit', action: 'AUDIT', rules: [{}] }], req());
  assert.equal(d.allowed, false);
  assert.deepEqual(d.audited, ['audit']);
});

test('from: principals, notPrincipals, namespaces, ipBlocks; plaintext has no principal', () => {
  const p = allow([{ from: [{ principals: [{ suffix: '/sa/sleep' }], namespaces: [{ exact: 'default' }], ipBlocks: ['10.0.0.0/24'] }] }]);
  assert.equal(authorize([p], req()).allowed, true);
  assert.equal(authorize([p], req({ sourceIp: '10.0.1.5' })).allowed, false);
  assert.equal(authorize([p], req({ principal: 'spiffe://cluster.local/ns/other/sa/sleep' })).allowed, false);
  assert.equal(authorize([p], req({ principal: '' })).allowed, false);
  const notP = deny([{ from: [{ notPrincipals: [{ exact: 'cluster.local/ns/default/sa/sleep' }] }] }]);
  assert.equal(authorize([notP], req()).allowed, true);
  assert.equal(authorize([notP], req({ principal: '' })).allowed, false);
});

test('to: hosts with or without port, ports by service or target port, methods, paths', () => {
  const p = allow([{ to: [{ hosts: [{ exact: 'httpbin' }], ports: [18000], methods: [{ exact: 'GET' }], paths: [{ prefix: '/g' }] }] }]);
  assert.equal(authorize([p], req()).allowed, true);
  assert.equal(authorize([p], req({ method: 'POST' })).allowed, false);
  assert.equal(authorize([p], req({ path: '/post' })).allowed, false);
  assert.equal(authorize([p], req({ ports: [9000] })).allowed, false);
  assert.equal(authorize([p], req({ host: 'other:8000' })).allowed, false);
  // ALLOW matches paths exactly: /GET is not /get.
  assert.equal(authorize([allow([{ to: [{ paths: [{ exact: '/get' }] }] }])], req({ path: '/GET' })).allowed, false);
  // DENY matches leniently: case and ;params.
  for (const path of ['/ADMIN', '/admin;x=1', '/Admin;a/']) {
    assert.equal(authorize([deny([{ to: [{ paths: [{ exact: '/admin' }, { exact: '/admin/' }] }] }])], req({ path })).allowed, false, path);
  }
});

test('when: headers, source.ip CIDR, claims (nested, arrays), destination.port; unknown keys fail closed', () => {
  const claims = { groups: ['a', 'b'], nested: { role: 'admin' } };
  assert.deepEqual(conditionValues('request.auth.claims[groups]', req({ claims })), ['a', 'b']);
  assert.deepEqual(conditionValues('request.auth.claims[nested][role]', req({ claims })), ['admin']);
  assert.deepEqual(conditionValues('source.ip', req()), ['10.0.0.5']);
  assert.equal(conditionValues('connection.sni', req()), null);
  const p = allow([{ when: [
    { key: 'request.headers[x-token]', values: [{ exact: 'abc' }] },
    { key: 'source.ip', values: [{ exact: '10.0.0.0/8' }] },
    { key: 'destination.port', values: [{ exact: '8000' }] },
  ] }]);
  assert.equal(authorize([p], req()).allowed, true);
  assert.equal(authorize([p], req({ headers: {} })).allowed, false);
  assert.equal(authorize([allow([{ when: [{ key: 'experimental.unknown', values: [{ presence: true }] }] }])], req()).allowed, false);
  assert.equal(authorize([deny([{ when: [{ key: 'experimental.unknown', values: [{ presence: true }] }] }])], req()).allowed, false);
});

const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('JWT: RS256 and ES256 verify; alg none, HMAC, another key, expiry and audience fail', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = parseJwks(JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r' }, { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e' }, { kty: 'bogus' }] }));
  assert.equal(keys.length, 2);
  const now = Math.floor(Date.now() / 1000);
  const tok = (alg: string, kid: string, claims: Record<string, unknown>, signer: (d: Buffer) => Buffer) => {
    const h = enc({ alg, kid });
    const b = enc({ iss: 'iss', sub: 'bob', exp: now + 60, ...claims });
    return `${h}.${b}.${signer(Buffer.from(`${h}.${b}`)).toString('base64url')}`;
  };
  const rs = (d: Buffer) => cryptoSign('sha256', d, rsa.privateKey);
  const es = (d: Buffer) => cryptoSign('sha256', d, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
  const rule = { issuer: 'iss', audiences: ['svc'] };
  assert.equal(verifyJwt(tok('RS256', 'r', { aud: 'svc' }, rs), rule, keys).subject, 'bob');
  assert.equal(verifyJwt(tok('ES256', 'e', { aud: ['x', 'svc'] }, es), rule, keys).issuer, 'iss');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const bad: [string, RegExp][] = [
    [tok('RS256', 'r', { aud: 'svc' }, (d) => cryptoSign('sha256', d, other.privateKey)), /verification fails/],
    [tok('none', 'r', { aud: 'svc' }, () => Buffer.alloc(0)), /not supported/],
    [tok('HS256', 'r', { aud: 'svc' }, () => Buffer.alloc(32)), /not supported/],
    [tok('RS256', 'r', { aud: 'svc', exp: now - 3600 }, rs), /expired/],
    [tok('RS256', 'r', { aud: 'other' }, rs), /Audiences/],
    [tok('RS256', 'r', { aud: 'svc', iss: 'evil' }, rs), /issuer/],
  ];
  for (const [t, why] of bad) assert.throws(() => verifyJwt(t, rule, keys), (e: Error) => e instanceof JwtError && why.test(e.message));
});

test('escaped slashes: refused by default, decoded then merged with DECODE', () => {
  assert.equal(normalizePath('/a%2Fb').ok, false);
  assert.deepEqual(normalizePath('/a%2Fb', { escapedSlashes: 'DECODE' }), { ok: true, path: '/a/b' });
  assert.deepEqual(normalizePath('/x/..%2F..%5Cadmin', { escapedSlashes: 'DECODE' }), { ok: true, path: '/admin' });
});

test('inbound policy: STRICT before any config; listener mode when pilot sends no policy; bad values are refused', () => {
  assert.equal(compileInboundPolicy(undefined).modeFor('9080'), 'STRICT');
  assert.equal(compileInboundPolicy(undefined).acceptsPlaintext, false);
  const cfg = { node: { id: 'x' }, listeners: [{ name: 'virtualInbound', kind: 'inbound', port: 1, protocol: 'HTTP', mtlsMode: 'PERMISSIVE' }] } as never;
  assert.equal(compileInboundPolicy(cfg).modeFor('9080'), 'PERMISSIVE');
  const p = compileInboundPolicy({ inboundPolicy: { mtls: { mode: 'STRICT', ports: { 9000: 'DISABLE' } }, authz: [], jwt: [] } } as never);
  assert.equal(p.modeFor('9000'), 'DISABLE');
  assert.equal(p.modeFor('8000'), 'STRICT');
  assert.equal(p.acceptsPlaintext, true);
  assert.throws(() => compileInboundPolicy({ inboundPolicy: { mtls: { mode: 'STRICT' }, authz: [{ name: 'x', action: 'MAYBE', rules: [] }], jwt: [] } } as never), /action/);
  assert.throws(() => compileInboundPolicy({ inboundPolicy: { mtls: { mode: 'STRICT' }, authz: [], jwt: [{ issuer: 'i', jwksUri: 'ftp://x' }] } } as never), /jwks/);
});
