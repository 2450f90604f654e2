import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorizationPolicy, type AuthzRequest } from '../../src/server/authz/authorization-policy.js';
import { call, certificate, type Connection } from './authz-request.js';

type Rule = Record<string, unknown>;

function policy(allow: Rule[], deny?: Rule[]): AuthorizationPolicy {
  return AuthorizationPolicy.parse({ name: 'authz', allow_rules: allow, ...(deny && { deny_rules: deny }) }, 'test');
}

/** Whether one allow rule with `request.paths: [pattern]` lets `method` through. */
function pathAllows(pattern: string, method: string): boolean {
  return policy([{ name: 'r', request: { paths: [pattern] } }]).evaluate(call(method)).allowed;
}

/** Whether one allow rule with `key: [pattern]` lets a call with `headers` through. */
function headerAllows(values: string[], headers: Record<string, string>): boolean {
  return policy([{ name: 'r', request: { headers: [{ key: 'key-abc', values }] } }]).evaluate(call('/p.S/M', headers))
    .allowed;
}

/** Whether one allow rule with `source.principals` lets a call over `connection` through. */
function principalAllows(principals: string[], connection: Connection): boolean {
  return policy([{ name: 'r', source: { principals } }]).evaluate(call('/p.S/M', {}, connection)).allowed;
}

describe('A43 patterns', () => {
  it('an exact pattern matches the whole value, case-sensitively', () => {
    assert.equal(pathAllows('/pkg.Svc/Get', '/pkg.Svc/Get'), true);
    assert.equal(pathAllows('/pkg.Svc/Get', '/pkg.Svc/GetMore'), false);
    assert.equal(pathAllows('/pkg.Svc/Get', '/pkg.svc/get'), false);
    assert.equal(pathAllows('Get', '/pkg.Svc/Get'), false, 'paths are full method paths');
  });

  it('prefix* matches the prefix itself and anything after it', () => {
    assert.equal(pathAllows('/pkg.Svc/*', '/pkg.Svc/Get'), true);
    assert.equal(pathAllows('/pkg.Svc/Get*', '/pkg.Svc/Get'), true);
    assert.equal(pathAllows('/pkg.Svc/*', '/pkg.Other/Get'), false);
  });

  it('*suffix matches the suffix itself and anything before it', () => {
    assert.equal(pathAllows('*/Echo', '/grpc.testing.EchoTestService/Echo'), true);
    assert.equal(pathAllows('*/Echo', '/grpc.testing.EchoTestService/ClientStreamingEcho'), false);
  });

  it('* alone matches any non-empty value and nothing absent', () => {
    assert.equal(pathAllows('*', '/pkg.Svc/Get'), true);
    assert.equal(headerAllows(['*'], { 'key-abc': 'x' }), true);
    assert.equal(headerAllows(['*'], { 'key-abc': '' }), false);
    assert.equal(headerAllows(['*'], {}), false);
  });

  it('an empty pattern matches only an empty value', () => {
    assert.equal(headerAllows([''], { 'key-abc': '' }), true);
    assert.equal(headerAllows([''], { 'key-abc': 'x' }), false);
    assert.equal(headerAllows(['', 'x'], { 'key-abc': 'x' }), true, 'values are OR-ed');
  });
});

describe('A43 headers', () => {
  it('matches several values of one header as grpc-js joins them, with ", "', () => {
    const twice = { 'key-abc': 'a, b' }; // what Node's HTTP/2 layer makes of `key-abc: a` and `key-abc: b`
    assert.equal(headerAllows(['a, b'], twice), true);
    assert.equal(headerAllows(['a,b'], twice), false, 'grpc-go and C-core join with "," and match this');
    assert.equal(headerAllows(['a*'], twice), true, 'a prefix of the first value matches everywhere');
  });

  it('ANDs the header entries of a rule and ORs the values of one entry', () => {
    const both = policy([
      {
        name: 'r',
        request: {
          headers: [
            { key: 'key-foo', values: ['foo1', 'foo2'] },
            { key: 'key-bar', values: ['bar1'] },
          ],
        },
      },
    ]);
    assert.equal(both.evaluate(call('/p.S/M', { 'key-foo': 'foo2', 'key-bar': 'bar1' })).allowed, true);
    assert.equal(both.evaluate(call('/p.S/M', { 'key-foo': 'foo2' })).allowed, false);
    assert.equal(both.evaluate(call('/p.S/M', { 'key-foo': 'foo3', 'key-bar': 'bar1' })).allowed, false);
  });

  it('asks for the lower-cased key of the policy', () => {
    const asked: string[] = [];
    const request: AuthzRequest = { ...call('/p.S/M'), header: (key) => (asked.push(key), 'v') };
    policy([{ name: 'r', request: { headers: [{ key: 'X-Tenant', values: ['v'] }] } }]).evaluate(request);
    assert.deepEqual(asked, ['x-tenant']);
  });
});

describe('A43 decision', () => {
  it('denies when a deny rule matches, even when an allow rule does too, naming the deny rule', () => {
    const p = policy([{ name: 'allow_all' }], [{ name: 'deny_get', request: { paths: ['/p.S/Get'] } }]);
    assert.deepEqual(p.evaluate(call('/p.S/Get')), { allowed: false, matchedRule: 'deny_get' });
    assert.deepEqual(p.evaluate(call('/p.S/Put')), { allowed: true, matchedRule: 'allow_all' });
  });

  it('denies with no rule named when no rule matches', () => {
    const p = policy([{ name: 'allow_get', request: { paths: ['/p.S/Get'] } }], []);
    assert.deepEqual(p.evaluate(call('/p.S/Put')), { allowed: false, matchedRule: '' });
  });

  it('names the first matching rule in file order, exact paths and patterns mixed', () => {
    const exact = { name: 'exact', request: { paths: ['/p.S/Get'] } };
    const prefix = { name: 'prefix', request: { paths: ['/p.S/*'] } };
    assert.equal(policy([prefix, exact]).evaluate(call('/p.S/Get')).matchedRule, 'prefix');
    assert.equal(policy([exact, prefix]).evaluate(call('/p.S/Get')).matchedRule, 'exact');
    assert.equal(policy([exact, prefix]).evaluate(call('/p.S/Put')).matchedRule, 'prefix');
    const deny = policy([{ name: 'all' }], [prefix, exact]);
    assert.deepEqual(deny.evaluate(call('/p.S/Get')), { allowed: false, matchedRule: 'prefix' });
  });

  it('goes on past a rule whose exact path matches but whose headers do not', () => {
    const p = policy([
      { name: 'tenant_a', request: { paths: ['/p.S/Get', '/p.S/Put'], headers: [{ key: 'tenant', values: ['a'] }] } },
      { name: 'tenant_b', request: { paths: ['/p.S/Get'], headers: [{ key: 'tenant', values: ['b'] }] } },
    ]);
    assert.equal(p.evaluate(call('/p.S/Get', { tenant: 'b' })).matchedRule, 'tenant_b');
    assert.equal(p.evaluate(call('/p.S/Put', { tenant: 'a' })).matchedRule, 'tenant_a');
    assert.equal(p.evaluate(call('/p.S/Put', { tenant: 'b' })).matchedRule, '');
  });

  it('a rule needs its source and its request to match; empty parts match anything', () => {
    const p = policy([
      { name: 'both', source: { principals: ['spiffe://x/admin'] }, request: { paths: ['/p.Admin/*'] } },
      { name: 'empty', source: { principals: [] }, request: { paths: [], headers: [] } },
    ]);
    const admin = certificate({ uri: ['spiffe://x/admin'] });
    assert.equal(p.evaluate(call('/p.Admin/Drop', {}, admin)).matchedRule, 'both');
    assert.equal(p.evaluate(call('/p.Admin/Drop', {}, 'plaintext')).matchedRule, 'empty');
  });

  it('gives the same frozen verdict object every time: nothing allocated per call', () => {
    const p = policy([{ name: 'r', request: { paths: ['/p.S/Get'] } }]);
    const first = p.evaluate(call('/p.S/Get'));
    assert.equal(p.evaluate(call('/p.S/Get')), first);
    assert.ok(Object.isFrozen(first));
    assert.equal(p.evaluate(call('/p.S/Put')), p.evaluate(call('/p.S/Other')));
    assert.ok(Object.isFrozen(p));
  });
});

describe('A43 principals (gRFC A41: the first source present)', () => {
  const legit = 'svc.legit';
  const table: [string, string[], Connection, boolean][] = [
    ['plaintext matches no principal rule, not even "*"', ['*'], 'plaintext', false],
    ['plaintext matches no principal rule, not even ""', [''], 'plaintext', false],
    ['TLS without a certificate is ""', [''], 'tls', true],
    ['TLS without a certificate fails "*"', ['*'], 'tls', false],
    ['TLS without a certificate passes ["*", ""]', ['*', ''], 'tls', true],
    ['a URI SAN that matches', ['spiffe://x/svc'], certificate({ uri: ['spiffe://x/svc'], dns: [legit] }), true],
    ['any of several URI SANs', ['spiffe://x/svc'], certificate({ uri: ['https://a/b', 'spiffe://x/svc'] }), true],
    [
      'URI SAN other, DNS SAN legit: no match (C-core matches)',
      [legit],
      certificate({ uri: ['spiffe://x/other'], dns: [legit] }),
      false,
    ],
    [
      'URI SAN other, subject legit: no match',
      [`CN=${legit}`],
      certificate({ uri: ['spiffe://x/other'], subject: `CN=${legit}` }),
      false,
    ],
    ['no URI SAN, DNS SAN that matches', [legit], certificate({ dns: ['svc.other', legit] }), true],
    [
      'DNS SAN other, subject legit: no match',
      [`CN=${legit}`],
      certificate({ dns: ['svc.other'], subject: `CN=${legit}` }),
      false,
    ],
    [
      'no SANs, subject that matches',
      [`CN=${legit},O=Example`],
      certificate({ subject: `CN=${legit},O=Example` }),
      true,
    ],
    ['no SANs, subject by prefix', ['CN=svc.*'], certificate({ subject: 'CN=svc.legit,O=Example' }), true],
    ['a certificate passes "*" through its subject', ['*'], certificate({ subject: 'CN=test-client1' }), true],
    ['a certificate with a name fails ""', [''], certificate({ subject: 'CN=test-client1' }), false],
    [
      'a wildcard DNS SAN is a plain string, not expanded',
      ['api.example.com'],
      certificate({ dns: ['*.example.com'] }),
      false,
    ],
  ];
  for (const [name, principals, connection, allowed] of table) {
    it(name, () => assert.equal(principalAllows(principals, connection), allowed));
  }
});
