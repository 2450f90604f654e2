// Which refusals of the real ./server interceptor the grpc-js client interceptor answers with a fresh
// token: only those a new token from the same configuration can fix, read from `grpc-oauth2-reason`.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AccessToken, createAuthInterceptor, type TokenProvider } from '../../src/index.js';
import type { AuthDecision, ServerAuthOptions } from '../../src/server/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { serverStream, unary } from '../helpers/grpc-fixture.js';
import { startClientScene, startKeyServer } from '../server/fixture.js';

/**
 * The real ./server interceptor trusting a MockTokenServer (unless `server` says otherwise), whose every
 * decision is kept, and a client through the auth interceptor with its TokenManager, or `provider`.
 */
async function scene(t: TestContext, server: Partial<ServerAuthOptions> = {}, provider?: TokenProvider) {
  const decisions: AuthDecision[] = [];
  const { tokenServer, tokens, auth } = await startClientScene(t, {
    onDecision: (decision) => decisions.push(decision),
    ...server,
  });
  const tls = auth.channelCredentials();
  const client = auth.client(tls, {
    interceptors: [createAuthInterceptor(provider ?? tokens, { channelCredentials: tls })],
  });
  return { tokenServer, decisions, client };
}

/** A provider of one opaque token (not a JWT), counting what the interceptor asks of it. */
function opaqueProvider(): TokenProvider & { getTokenCalls: number; invalidateCalls: number } {
  const token = new AccessToken('opaque-token-value-0123456789', new Date(Date.now() + 3_600_000), ['orders.read']);
  const provider = {
    getTokenCalls: 0,
    invalidateCalls: 0,
    getToken: () => {
      provider.getTokenCalls++;
      return Promise.resolve(token);
    },
    invalidate: () => {
      provider.invalidateCalls++;
      return true;
    },
  };
  return provider;
}

describe('a call the real ./server refuses for a reason a new token cannot fix', () => {
  it('wrong_audience: sent once, one token request, and the token is kept for the next call', async (t) => {
    const { tokenServer, decisions, client } = await scene(t, { audience: 'https://orders.example.test' }); // the tokens' is https://api.example.test;
    const first = await unary(client);
    assert.equal(first.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(first.error.metadata.get('grpc-oauth2-reason')[0], 'wrong_audience');
    assert.deepEqual(
      decisions.map((decision) => decision.reason),
      ['wrong_audience'],
      'the call went to the server once',
    );
    assert.equal(tokenServer.tokenRequestCount, 1);

    const again = await serverStream(client);
    assert.equal(again.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(decisions.length, 2);
    assert.equal(tokenServer.tokenRequestCount, 1, 'not invalidated: a fresh token would have the same audience');
  });

  it('malformed_token (an opaque token to a JWT server): sent once, and not invalidated', async (t) => {
    const provider = opaqueProvider();
    const { decisions, client } = await scene(t, {}, provider);
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(
      decisions.map((decision) => decision.reason),
      ['malformed_token'],
    );
    assert.equal(provider.getTokenCalls, 1);
    assert.equal(provider.invalidateCalls, 0);
  });
});

describe('a call the real ./server refuses for a reason a new token can fix', () => {
  const fixable: [string, (t: TestContext) => Promise<Partial<ServerAuthOptions>>][] = [
    ['unknown_key', async (t) => ({ jwksUri: (await startKeyServer(t)).jwksUri })],
    // The server's clock is two hours ahead of the token's one-hour life.
    ['token_expired', () => Promise.resolve({ clock: new ManualClock(Date.now() + 2 * 3_600_000) })],
  ];
  for (const [reason, serverOptions] of fixable) {
    it(`${reason}: the token is invalidated and the call made once more with a fresh one`, async (t) => {
      const { tokenServer, decisions, client } = await scene(t, await serverOptions(t));
      const { error } = await unary(client);
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
      assert.deepEqual(
        decisions.map((decision) => decision.reason),
        [reason, reason],
      );
      assert.equal(tokenServer.tokenRequestCount, 2);
    });
  }

  it('a reason trailer that is no reason code (a token echoed in it) counts as no reason: the call is made once more', async (t) => {
    const provider = opaqueProvider();
    const echoing: grpc.ServerInterceptor = (_options, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata) => {
              const trailers = new grpc.Metadata();
              trailers.set('grpc-oauth2-reason', String(metadata.get('authorization')[0]));
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'refused', metadata: trailers });
            },
          }),
      });
    const { auth } = await startClientScene(t, {}, { before: [echoing] });
    const tls = auth.channelCredentials();
    const client = auth.client(tls, { interceptors: [createAuthInterceptor(provider, { channelCredentials: tls })] });
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(provider.invalidateCalls, 1);
    assert.equal(provider.getTokenCalls, 2, 'asked for a fresh token for the replay');
  });
});
