import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AccessToken,
  createAuthInterceptor,
  explainAuthFailure,
  TokenManager,
  type AuthFailureExplanation,
} from '../../src/index.js';
import type { ServerAuthOptions } from '../../src/server/index.js';
import { callTypes, methodPaths, unary, type CallType } from '../helpers/grpc-fixture.js';
import { startPolicyServer, type Policy } from '../helpers/policy-server.js';
import { clientId, clientSecret, managerOptions, startTokenServer } from '../helpers/token-fixtures.js';
import { startClientScene } from '../server/fixture.js';

/** A token server, a manager (orders.read), and a policy server with an auth-intercepted client. */
async function scene(t: TestContext, policy: Policy, managerExtra = {}) {
  const tokenServer = await startTokenServer(t);
  const tokens = new TokenManager(managerOptions(tokenServer, { retry: { retries: 0 }, ...managerExtra }));
  t.after(() => tokens.close());
  const server = await startPolicyServer(t, policy);
  const client = server.client([createAuthInterceptor(tokens, { channelCredentials: server.channelCredentials })]);
  return { tokenServer, tokens, server, client };
}

/** Fails the test unless no secret or token is in the explanation. */
function assertNoSecrets(explanation: AuthFailureExplanation | undefined, tokens: readonly string[]): void {
  const text = JSON.stringify(explanation);
  assert.ok(!text.includes(clientSecret), 'no client secret');
  for (const token of tokens) assert.ok(!text.includes(token), 'no token');
  assert.ok(!/eyJ[\w-]+\.eyJ/.test(text), 'nothing JWT-like');
}

const missingOrdersWrite: Policy = (authorization, method) =>
  authorization !== undefined && method.endsWith('/Unary')
    ? {
        code: grpc.status.PERMISSION_DENIED,
        details: 'missing scope orders.write',
        reason: 'missing_scope',
        scopes: 'orders.write',
      }
    : undefined;

describe('explainAuthFailure', () => {
  it('names the missing scope and the scopes requested when the server answers PERMISSION_DENIED for a scope', async (t) => {
    const { client, tokens } = await scene(t, missingOrdersWrite);
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    const explanation = explainAuthFailure(error);
    assert.equal(explanation?.hint, 'the token lacked scope orders.write; it was requested with orders.read');
    assert.equal(explanation.tokenAttached, true);
    assert.deepEqual(explanation.scopesRequested, ['orders.read']);
    assert.deepEqual(explanation.scopesGranted, ['orders.read']);
    assert.deepEqual(explanation.audience, ['https://api.example.test']);
    assert.equal(explanation.serverReason, 'missing_scope');
    assert.equal(explanation.replayed, false);
    assert.ok(
      explanation.tokenExpiresInMs !== undefined &&
        explanation.tokenExpiresInMs > 3_500_000 &&
        explanation.tokenExpiresInMs <= 3_600_000,
    );
    assertNoSecrets(explanation, [(await tokens.getToken()).accessToken]);
  });

  for (const type of Object.keys(callTypes) as CallType[]) {
    it(`explains a PERMISSION_DENIED ${type} call`, async (t) => {
      const denyAll: Policy = () => ({
        code: grpc.status.PERMISSION_DENIED,
        details: 'no',
        reason: 'method_not_in_policy',
      });
      const { client } = await scene(t, denyAll);
      const { error } = await callTypes[type](client);
      assert.match(
        explainAuthFailure(error)?.hint ?? '',
        /^the server's policy does not name \/test\.v1\.Echo\/\w+ \(it denies by default\)/,
      );
    });
  }

  it('says how long a rejected token was still valid, and that the call was made again', async (t) => {
    const rejectAll: Policy = () => ({ code: grpc.status.UNAUTHENTICATED, details: 'token rejected' });
    const { client, tokenServer } = await scene(t, rejectAll);
    const { error } = await unary(client);
    const explanation = explainAuthFailure(error);
    assert.equal(tokenServer.tokenRequestCount, 2, 'the replay got a fresh token');
    assert.equal(explanation?.replayed, true);
    assert.match(
      explanation.hint,
      /^the server rejected a token that was valid for 59 more minutes: check its audience https:\/\/api\.example\.test and issuer http:\/\/127\.0\.0\.1:\d+; it was made again with a fresh token and refused again$/,
    );
  });

  it("reads the server's reason: an expiry the client's clock disagrees with is clock drift", async (t) => {
    const expired: Policy = () => ({
      code: grpc.status.UNAUTHENTICATED,
      details: 'token expired',
      reason: 'token_expired',
    });
    const { client } = await scene(t, expired);
    const { error } = await unary(client);
    assert.match(
      explainAuthFailure(error)?.hint ?? '',
      /^the server says the token expired, but it was valid for 59 more minutes by this machine's clock: check the clocks/,
    );
  });

  it("reads the server's DPoP reasons (RFC 9449) into a hint naming what to send", async (t) => {
    const hints = {
      dpop_missing: /DPoP-bound \(RFC 9449\): send it as 'authorization: DPoP <token>' with a fresh dpop proof/,
      dpop_invalid: /refused the call's DPoP proof \(the status details name the check\)/,
      dpop_replayed: /proof was used before: sign a fresh proof \(new jti\) for every call/,
      dpop_key_mismatch: /signed by another key than the token is bound to \(its cnf\.jkt\)/,
    };
    for (const [reason, hint] of Object.entries(hints)) {
      const refuse: Policy = () => ({ code: grpc.status.UNAUTHENTICATED, details: 'refused', reason });
      const { client } = await scene(t, refuse);
      const { error } = await unary(client);
      const explanation = explainAuthFailure(error);
      assert.equal(explanation?.serverReason, reason);
      assert.match(explanation?.hint ?? '', hint, reason);
    }
  });

  it('says no token was attached, and the OAuth error, when the token could not be fetched', async (t) => {
    const tokenServer = await startTokenServer(t);
    const tokens = new TokenManager(
      managerOptions(tokenServer, { clientSecret: 'wrong-secret-value', retry: { retries: 0 } }),
    );
    t.after(() => tokens.close());
    const server = await startPolicyServer(t);
    const client = server.client([createAuthInterceptor(tokens, { channelCredentials: server.channelCredentials })]);
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    const explanation = explainAuthFailure(error);
    assert.equal(
      explanation?.hint,
      'no token was attached: the token endpoint answered invalid_client; check the client id and its secret or key',
    );
    assert.equal(explanation.tokenAttached, false);
    assert.equal(explanation.tokenExpiresInMs, undefined);
    assert.deepEqual(explanation.scopesRequested, ['orders.read']);
    assertNoSecrets(explanation, []);
    assert.ok(!JSON.stringify(explanation).includes('wrong-secret-value'));
  });

  it('explains a DEADLINE_EXCEEDED call that was still waiting for its token', async (t) => {
    const { client, tokenServer } = await scene(t, () => undefined);
    tokenServer.failNext(1, { type: 'hang' });
    const { error } = await unary(client, { options: { deadline: Date.now() + 300 } });
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(
      explainAuthFailure(error)?.hint ?? '',
      /^no token was attached: the call ended \(its deadline passed\) while it waited for a token/,
    );
  });

  it("says the caller's own authorization header was the one refused", async (t) => {
    const rejectAll: Policy = () => ({ code: grpc.status.UNAUTHENTICATED, details: 'token rejected' });
    const { client } = await scene(t, rejectAll);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer callers-own-token');
    const { error } = await unary(client, { metadata });
    const explanation = explainAuthFailure(error);
    assert.equal(explanation?.tokenAttached, true);
    assert.match(explanation.hint, /caller's own authorization header/);
    assert.ok(!JSON.stringify(explanation).includes('callers-own-token'));
  });

  it('returns undefined for an unrelated error, for errors of other calls and for values that are not errors', async (t) => {
    const notFound: Policy = () => ({ code: grpc.status.NOT_FOUND, details: 'no such order' });
    const { client } = await scene(t, notFound);
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.NOT_FOUND);
    assert.equal(explainAuthFailure(error), undefined);
    assert.equal(
      explainAuthFailure({ code: grpc.status.UNAUTHENTICATED, details: 'x', metadata: new grpc.Metadata() }),
      undefined,
    );
    assert.equal(explainAuthFailure(new Error('boom')), undefined);
    assert.equal(explainAuthFailure(undefined), undefined);
    assert.equal(explainAuthFailure(null), undefined);
  });

  it('keeps clientId in its facts only as the subject of the hint', async (t) => {
    const denied: Policy = () => ({ code: grpc.status.PERMISSION_DENIED, details: 'denied by RBAC' });
    const { client } = await scene(t, denied);
    const { error } = await unary(client);
    assert.match(
      explainAuthFailure(error)?.hint ?? '',
      new RegExp(
        `^the server denied /test.v1.Echo/Unary to client ${clientId} with a token valid for 59 more minutes carrying orders.read`,
      ),
    );
  });
});

describe('explainAuthFailure with the real ./server', () => {
  /** The real ./server with `methods`, and a client through the auth interceptor asking for orders.read. */
  async function realScene(t: TestContext, methods: ServerAuthOptions['methods']) {
    const { tokens, auth } = await startClientScene(t, { methods });
    const tls = auth.channelCredentials();
    return auth.client(tls, { interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls })] });
  }

  it('says "needs one of" for an anyOf rule the token meets none of', async (t) => {
    const client = await realScene(t, {
      [methodPaths.unary]: { anyOf: ['orders.write', 'orders.admin'] },
      '/test.v1.Echo/*': ['orders.read'],
    });
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(
      explainAuthFailure(error)?.hint,
      'the token lacked a scope the method needs: it needs one of orders.admin, orders.write; it was requested with orders.read',
    );
  });

  it('still says which scopes are all required for a list rule', async (t) => {
    const client = await realScene(t, {
      [methodPaths.unary]: ['orders.read', 'orders.write', 'orders.admin'],
      '/test.v1.Echo/*': ['orders.read'],
    });
    const { error } = await unary(client);
    assert.equal(
      explainAuthFailure(error)?.hint,
      'the token lacked scopes orders.admin orders.write; it was requested with orders.read',
    );
  });
});

describe('explainAuthFailure and an echoing server', () => {
  const opaque = 'opaque-access-token-0123456789abcdef';

  /** The explanation of a call with an opaque token, refused as `refusal(token)` says. */
  async function explainRefusal(
    t: TestContext,
    refusal: (token: string) => ReturnType<Policy>,
  ): Promise<AuthFailureExplanation> {
    const provider = {
      getToken: () => Promise.resolve(new AccessToken(opaque, new Date(Date.now() + 3_600_000), ['orders.read'])),
      invalidate: () => false,
    };
    const server = await startPolicyServer(t, (authorization) => refusal(authorization?.slice('Bearer '.length) ?? ''));
    const client = server.client([createAuthInterceptor(provider, { channelCredentials: server.channelCredentials })]);
    const explanation = explainAuthFailure((await unary(client)).error);
    assert.ok(explanation !== undefined);
    assert.ok(!JSON.stringify(explanation).includes(opaque), JSON.stringify(explanation));
    return explanation;
  }

  it('keeps an opaque token the server echoes in its details out of the hint', async (t) => {
    await explainRefusal(t, (token) => ({
      code: grpc.status.UNAUTHENTICATED,
      details: `rejected ${token}`,
      reason: 'unknown_reason',
    }));
  });

  it('takes as serverReason only a reason code of [a-z_], not the token or other text echoed in the trailer', async (t) => {
    for (const reason of [opaque, 'Wrong-Audience', 'wrong audience', 'x'.repeat(65)]) {
      const explanation = await explainRefusal(t, () => ({
        code: grpc.status.UNAUTHENTICATED,
        details: 'refused',
        reason,
      }));
      assert.equal(explanation.serverReason, undefined, reason);
      assert.ok(!explanation.hint.includes(reason), explanation.hint);
    }
    const explanation = await explainRefusal(t, (token) => ({
      code: grpc.status.UNAUTHENTICATED,
      details: 'refused',
      reason: token,
    }));
    assert.match(explanation.hint, /^the server rejected a token that was valid for/);
  });

  it('takes only scope-shaped values from grpc-oauth2-scope, never the token it sent or a JWT', async (t) => {
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.';
    for (const scopes of [
      (token: string) => `orders.write ${token}`,
      () => `orders.write ${jwt}`,
      () => 'orders "write"',
    ]) {
      const explanation = await explainRefusal(t, (token) => ({
        code: grpc.status.PERMISSION_DENIED,
        details: 'missing scope',
        reason: 'missing_scope',
        scopes: scopes(token),
      }));
      assert.equal(
        explanation.hint,
        'the token lacked a scope the method needs; it was requested with (unknown) and granted orders.read',
      );
    }
  });

  it('escapes control characters the server puts in its details, so it cannot forge a log line', async (t) => {
    const explanation = await explainRefusal(t, () => ({
      code: grpc.status.UNAUTHENTICATED,
      details: 'refused\r\nhint: all is well\u001b[2J\u2028next',
      reason: 'some_reason',
    }));
    assert.equal(
      explanation.hint,
      'the server rejected the token (some_reason): refused\\r\\nhint: all is well\\x1b[2J\\u2028next',
    );
    // eslint-disable-next-line no-control-regex -- what must not be there
    assert.ok(!/[\u0000-\u001f\u007f\u2028]/.test(explanation.hint));
  });
});
