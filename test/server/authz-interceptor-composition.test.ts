// The A43 interceptor behind the bearer-token interceptor in one real grpc-js server over mutual TLS
// (`interceptors: [auth, authz]`), with this SDK's client (createAuthInterceptor and a TokenManager on a
// MockTokenServer): an allowed call passes both, a call refused by either is explained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, explainAuthFailure } from '../../src/index.js';
import {
  createAuthorizationPolicyInterceptor,
  createServerAuthInterceptor,
  type AuditRecord,
} from '../../src/server/index.js';
import type { ClientCertificate } from '../../src/testing/index.js';
import { methodPaths, serverStream, unary } from '../helpers/grpc-fixture.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { reasonOf } from './fixture.js';
import { callerSpiffeId, certificates, policyOf, startPolicyServer } from './authz-fixture.js';

test('token scopes and A43 rules in one server: an allowed call passes both, a refusal by either is explained', async (t) => {
  const tokenServer = await startTokenServer(t);
  const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
  const auth = createServerAuthInterceptor({
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test',
    jwksUri: tokenServer.jwksUri,
    allowInsecureRequests: true,
    methods: { [methodPaths.unary]: ['orders.read'], '/test.v1.Echo/*': ['orders.write'] },
  });
  const records: AuditRecord[] = [];
  const authz = createAuthorizationPolicyInterceptor({
    policy: policyOf([{ name: 'orders_caller', source: { principals: [callerSpiffeId] } }], undefined, {
      audit_condition: 'ON_DENY_AND_ALLOW',
    }),
    onAudit: (record) => records.push(record),
  });
  const server = await startPolicyServer(t, [auth, authz]);
  const { caller, other } = await certificates();
  // This SDK's client: tokens from the TokenManager, and what explainAuthFailure reads.
  const withTokens = (certificate: ClientCertificate): grpc.Client =>
    server.client(certificate, {
      interceptors: [createAuthInterceptor(tokens, { channelCredentials: server.channelCredentials(certificate) })],
    });
  const callerClient = withTokens(caller);
  const otherClient = withTokens(other);

  assert.equal((await unary(callerClient)).error, undefined, 'a token with the scope, from the allowed principal');

  const byPolicy = (await unary(otherClient)).error;
  assert.equal(byPolicy?.code, grpc.status.PERMISSION_DENIED);
  assert.equal(reasonOf(byPolicy), 'policy_denied');
  const policyHint = explainAuthFailure(byPolicy);
  assert.equal(policyHint?.serverReason, 'policy_denied');
  assert.match(policyHint.hint, /^the server's authorization policy \(gRFC A43\) denied \/test\.v1\.Echo\/Unary: /);

  const byScopes = (await serverStream(callerClient)).error;
  assert.equal(byScopes?.code, grpc.status.PERMISSION_DENIED);
  assert.equal(reasonOf(byScopes), 'missing_scope');
  assert.equal(
    explainAuthFailure(byScopes)?.hint,
    'the token lacked scope orders.write; it was requested with orders.read',
  );

  const noToken = (await unary(server.client(caller))).error;
  assert.equal(noToken?.code, grpc.status.UNAUTHENTICATED, 'the bearer interceptor runs first');
  assert.equal(reasonOf(noToken), 'missing_token');

  assert.deepEqual(server.handled, [methodPaths.unary], 'only the call both allowed reached a handler');
  assert.deepEqual(
    records.map((record) => [record.principal, record.authorized]),
    [
      [callerSpiffeId, true],
      ['spiffe://example.test/ns/other/sa/stranger', false],
    ],
    'the policy decided only calls the token interceptor let through',
  );
  const token = (await tokens.getToken()).accessToken;
  assert.ok(!JSON.stringify(records).includes(token), 'no token in the audit records');
});
