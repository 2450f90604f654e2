// createAuthorizationPolicyInterceptor on a real grpc-js server over TLS: a refused call ends
// PERMISSION_DENIED (policy_denied) before its handler on all four call kinds, an allowed call reaches
// its handler, principals come from the verified client certificate, headers as grpc-js gives them;
// strict options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createAuthorizationPolicyInterceptor } from '../../src/server/index.js';
import { bidi, callTypes, clientStream, methodPaths, serverStream, unary } from '../helpers/grpc-fixture.js';
import { invalidOption } from '../helpers/config-error.js';
import { reasonOf } from './fixture.js';
import { callerSpiffeId, certificates, headers, policyOf, startPolicyServer } from './authz-fixture.js';

const where = 'createAuthorizationPolicyInterceptor';
const onlyHealth = policyOf([{ name: 'allow_health', request: { paths: ['/grpc.health.v1.Health/*'] } }]);
const onlyCaller = policyOf([{ name: 'allow_caller', source: { principals: [callerSpiffeId] } }]);

test('a refused call ends PERMISSION_DENIED policy_denied before its handler, on all four call kinds', async (t) => {
  const server = await startPolicyServer(t, [createAuthorizationPolicyInterceptor({ policy: onlyHealth })]);
  const { caller } = await certificates();
  for (const [kind, call] of Object.entries(callTypes)) {
    const { error, replies } = await call(server.client(caller));
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED, kind);
    assert.equal(error?.details, 'unauthorized RPC request rejected', kind);
    assert.equal(reasonOf(error), 'policy_denied', kind);
    assert.equal(replies.length, 0, kind);
  }
  assert.deepEqual(server.handled, [], 'no handler ran');
  assert.equal(server.messagesRead, 0, 'no request message was read');
});

test('an allowed call reaches its handler on all four call kinds; another principal is refused', async (t) => {
  const server = await startPolicyServer(t, [
    createAuthorizationPolicyInterceptor({ policy: JSON.stringify(onlyCaller) }),
  ]);
  const { caller, other } = await certificates();
  for (const [kind, call] of Object.entries(callTypes)) {
    const { error, replies } = await call(server.client(caller));
    assert.equal(error, undefined, kind);
    assert.ok(replies.length > 0, kind);
    assert.equal((await call(server.client(other))).error?.code, grpc.status.PERMISSION_DENIED, kind);
  }
  assert.deepEqual(server.handled, Object.values(methodPaths));
  assert.equal(server.messagesRead, 3, "the allowed calls' messages only (two client-stream, one bidi)");
});

test('the policy sees the method path and headers: deny rules first, then allow rules', async (t) => {
  const policy = policyOf(
    [
      {
        name: 'allow_tenant',
        request: { paths: ['/test.v1.Echo/*'], headers: [{ key: 'X-Tenant', values: ['acme'] }] },
      },
    ],
    [{ name: 'deny_bidi', request: { paths: ['*/Bidi'] } }],
  );
  const server = await startPolicyServer(t, [createAuthorizationPolicyInterceptor({ policy })]);
  const acme = () => headers({ 'x-tenant': 'acme' });
  assert.equal((await unary(server.client(), { metadata: acme() })).error, undefined);
  assert.equal((await serverStream(server.client(), { metadata: acme() })).error, undefined);
  assert.equal((await bidi(server.client(), { metadata: acme() })).error?.code, grpc.status.PERMISSION_DENIED);
  assert.equal((await unary(server.client(), { metadata: headers({ 'x-tenant': 'other' }) })).error?.code, 7);
  assert.equal((await clientStream(server.client())).error?.code, grpc.status.PERMISSION_DENIED);
});

test("several values of a header reach the policy joined with ', ' as Node gives them; -bin values as their bytes", async (t) => {
  const policy = policyOf([
    { name: 'joined', request: { paths: ['*/Unary'], headers: [{ key: 'x-team', values: ['a, b'] }] } },
    { name: 'binary', request: { paths: ['*/ServerStream'], headers: [{ key: 'x-key-bin', values: ['raw'] }] } },
    { name: 'two_binary', request: { paths: ['*/Bidi'], headers: [{ key: 'x-key-bin', values: ['one, two'] }] } },
  ]);
  const server = await startPolicyServer(t, [createAuthorizationPolicyInterceptor({ policy })]);
  assert.equal((await unary(server.client(), { metadata: headers({ 'x-team': ['a', 'b'] }) })).error, undefined);
  assert.equal((await unary(server.client(), { metadata: headers({ 'x-team': 'a,b' }) })).error?.code, 7);
  const binary = new grpc.Metadata();
  binary.set('x-key-bin', Buffer.from('raw'));
  assert.equal((await serverStream(server.client(), { metadata: binary })).error, undefined);
  const twoBinary = new grpc.Metadata();
  twoBinary.add('x-key-bin', Buffer.from('one'));
  twoBinary.add('x-key-bin', Buffer.from('two'));
  assert.equal(
    (await bidi(server.client(), { metadata: twoBinary })).error,
    undefined,
    'grpc-js splits them: joined again',
  );
});

test("principal rules: '' matches TLS without a client certificate on the package's credentials, not on grpc-js's or plaintext", async (t) => {
  const policy = policyOf([{ name: 'anyone_on_tls', source: { principals: [''] } }]);
  const mtls = await startPolicyServer(t, [createAuthorizationPolicyInterceptor({ policy })], 'mtls');
  assert.equal((await unary(mtls.client())).error, undefined, 'TLS without a certificate is the principal ""');
  const { caller } = await certificates();
  assert.equal((await unary(mtls.client(caller))).error?.code, 7, 'a certificate is its SPIFFE ID, not ""');
  const grpcJs = await startPolicyServer(t, [createAuthorizationPolicyInterceptor({ policy })], 'grpc-js-tls');
  assert.equal((await unary(grpcJs.client())).error?.code, 7, 'grpc-js credentials say nothing of TLS here');
  const plaintext = await startPolicyServer(t, [createAuthorizationPolicyInterceptor({ policy })], 'plaintext');
  assert.equal((await unary(plaintext.client())).error?.code, 7, 'plaintext matches no principal rule');
});

test('the interceptor tells the name of its policy, and close() is harmless for a static policy', () => {
  const authz = createAuthorizationPolicyInterceptor({ policy: onlyHealth });
  assert.equal(authz.policyName, 'authz');
  authz.close();
  assert.equal(authz.policyName, 'authz');
});

test('an invalid policy is an AuthConfigError at construction', () => {
  assert.throws(
    () => createAuthorizationPolicyInterceptor({ policy: { name: 'authz' } }),
    invalidOption(/allow_rules/),
  );
  assert.throws(() => createAuthorizationPolicyInterceptor({ policy: '{' }), invalidOption(/./));
});

test('options are strict: unknown names, bad types and the wrong combinations are AuthConfigErrors naming them', () => {
  const cases: [unknown, RegExp][] = [
    [
      { policy: onlyHealth, onAudits: () => {} },
      /^unknown createAuthorizationPolicyInterceptor option "onAudits"; did you mean "onAudit"\?$/,
    ],
    [
      { policy: onlyHealth, policyFile: '/x.json', refreshIntervalMs: 1000 },
      /exactly one of policy .* and policyFile, not both$/,
    ],
    [{}, /exactly one of policy .* and policyFile, not neither$/],
    [undefined, /not neither$/],
    [{ policy: onlyHealth, refreshIntervalMs: 1000 }, /refreshIntervalMs goes with policyFile, not with policy$/],
    [{ policyFile: '/x.json' }, /refreshIntervalMs is required with policyFile/],
    [
      { policyFile: '/x.json', refreshIntervalMs: 99 },
      /refreshIntervalMs must be a whole number from 100 to 86400000$/,
    ],
    [{ policyFile: '/x.json', refreshIntervalMs: '1000' }, /refreshIntervalMs must be a whole number/],
    [{ policyFile: '', refreshIntervalMs: 1000 }, /policyFile must be a non-empty string; got an empty string$/],
    [{ policy: 42 }, /policy must be the A43 policy's JSON text or its object, not number$/],
    [{ policy: [onlyHealth] }, /not an array$/],
    [{ policy: onlyHealth, onAudit: 'console.log' }, /onAudit must be a function, not a string$/],
    [{ policy: onlyHealth, onReload: {} }, /onReload must be a function, not object$/],
    [{ policy: onlyHealth, clock: Date }, /clock must have now\(\) and setTimeout\(\), not function$/],
    ['policy', /options must be an object$/],
  ];
  for (const [options, message] of cases)
    assert.throws(
      () => createAuthorizationPolicyInterceptor(options as never),
      invalidOption(message.source.startsWith('^') ? message : new RegExp(`^${where}.*${message.source}`)),
      JSON.stringify(options),
    );
});
