import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createCallCredentials, createChannelCredentials } from '../../src/index.js';
import type { AccessToken } from '../../src/index.js';
import type { TokenProvider } from '../../src/index.js';
import { bidi, callTypes, echoService, startScene, unary, type Scene } from '../helpers/grpc-fixture.js';
import { ManualClock } from '../../src/testing/index.js';
import { clientSecret, until } from '../helpers/token-fixtures.js';

function interceptedClient(scene: Scene, tokens: TokenProvider = scene.tokens): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  return scene.grpcServer.client(tls, { interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls })] });
}

/** The TokenManager, recording the signal each getToken() call was given. */
function recordingSignals(scene: Scene): { tokens: TokenProvider; signals: (AbortSignal | undefined)[] } {
  const signals: (AbortSignal | undefined)[] = [];
  return {
    signals,
    tokens: {
      getToken: (options) => {
        signals.push(options?.signal);
        return scene.tokens.getToken(options);
      },
      invalidate: (accessToken) => scene.tokens.invalidate(accessToken),
    },
  };
}

test('a hung token server and a 500 ms deadline end the call DEADLINE_EXCEEDED in under 1 s, and the wait for the token with it', async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(1, { type: 'hang' });
  const { tokens, signals } = recordingSignals(scene);
  const client = interceptedClient(scene, tokens);

  const started = performance.now();
  const result = await unary(client, { options: { deadline: Date.now() + 500 } });
  const elapsedMs = performance.now() - started;

  assert.equal(result.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(elapsedMs < 1000, `took ${Math.round(elapsedMs)} ms`);
  assert.equal(signals.length, 1);
  assert.equal(signals[0]?.aborted, true);
  assert.equal(scene.grpcServer.received.length, 0);
});

test('a bidi call with a hung token server also ends DEADLINE_EXCEEDED on time, and its wait for the token with it', async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(1, { type: 'hang' });
  const { tokens, signals } = recordingSignals(scene);

  const started = performance.now();
  const result = await bidi(interceptedClient(scene, tokens), { options: { deadline: Date.now() + 500 } });

  assert.equal(result.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(performance.now() - started < 1000);
  assert.equal(signals[0]?.aborted, true);
});

test('cancelling a call that waits for a token ends it CANCELLED and stops the wait', async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(1, { type: 'hang' });
  const { tokens, signals } = recordingSignals(scene);
  const m = echoService.ServerStream;
  const call = interceptedClient(scene, tokens).makeServerStreamRequest(
    m.path,
    m.requestSerialize,
    m.responseDeserialize,
    { text: 'x' },
  );
  const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
  await until(() => signals.length === 1);

  call.cancel();

  assert.equal((await ended).code, grpc.status.CANCELLED);
  assert.equal(signals[0]?.aborted, true);
  assert.equal(scene.grpcServer.received.length, 0);
});

test('with createChannelCredentials a hung token server still ends the call DEADLINE_EXCEEDED in under 1 s', async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(1, { type: 'hang' });
  const client = scene.grpcServer.client(createChannelCredentials(scene.grpcServer.channelCredentials(), scene.tokens));

  const started = performance.now();
  const result = await unary(client, { options: { deadline: Date.now() + 500 } });

  assert.equal(result.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(performance.now() - started < 1000);
});

test('calls waiting on a hung token server share one token request, bounded by requestTimeoutMs', async (t) => {
  const scene = await startScene(t, { tokens: { requestTimeoutMs: 300 } });
  scene.tokenServer.failNext(1, { type: 'hang' });
  const client = interceptedClient(scene);

  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: 20 }, () => unary(client, { options: { deadline: Date.now() + 5000 } })),
  );

  for (const result of results) {
    assert.equal(result.error?.code, grpc.status.UNAVAILABLE);
    assert.match(result.error.details, /\(timeout\)/);
  }
  assert.ok(performance.now() - started < 2000);
  assert.equal(scene.tokenServer.tokenRequestCount, 1);
});

test('a token server that is down before the first token ends every call type UNAVAILABLE', async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(10, { type: 'reset' });
  const client = interceptedClient(scene);

  for (const call of Object.values(callTypes)) {
    const result = await call(client);
    assert.equal(result.error?.code, grpc.status.UNAVAILABLE);
    assert.match(result.error.details, /no OAuth2 access token \(network\)/);
  }
  assert.equal(scene.grpcServer.received.length, 0);
});

test('invalid_client ends every call type UNAUTHENTICATED with details that name the error, never the secret', async (t) => {
  const wrongSecret = 'wrong-Secret-that-must-not-leak-9876543210';
  const scene = await startScene(t, { tokens: { clientSecret: wrongSecret } });
  const client = interceptedClient(scene);

  for (const call of Object.values(callTypes)) {
    const result = await call(client);
    assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
    assert.match(result.error.details, /invalid_client/);
    assert.match(result.error.details, /token endpoint/);
    assert.ok(!result.error.details.includes(wrongSecret));
    assert.ok(!result.error.details.includes(clientSecret));
  }
  assert.equal(scene.grpcServer.received.length, 0);
});

test('a retryable OAuth error from the token endpoint ends the call UNAVAILABLE', async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(1, { type: 'error', status: 503, error: 'temporarily_unavailable' });

  const result = await unary(interceptedClient(scene));

  assert.equal(result.error?.code, grpc.status.UNAVAILABLE);
});

test('a token provider that resolves without a token ends the call UNAUTHENTICATED instead of crashing the process', async (t) => {
  const scene = await startScene(t);
  const broken: TokenProvider = { getToken: () => Promise.resolve({} as AccessToken), invalidate: () => undefined };
  const tls = scene.grpcServer.channelCredentials();
  const client = scene.grpcServer.client(tls);

  const result = await unary(client, {
    options: { credentials: createCallCredentials(broken, { channelCredentials: tls }) },
  });

  assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(scene.grpcServer.received.length, 0);
});

test("a token provider's own error message is withheld from the status details", async (t) => {
  const scene = await startScene(t);
  const leaky: TokenProvider = {
    getToken: () => Promise.reject(new Error(`could not use ${clientSecret}`)),
    invalidate: () => undefined,
  };

  const result = await unary(interceptedClient(scene, leaky));

  assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  assert.ok(!result.error.details.includes(clientSecret));
});

test('a call without a deadline ends UNAVAILABLE after maxWaitMs while the token server hangs, for every call type', async (t) => {
  const clock = new ManualClock();
  const scene = await startScene(t, { tokenServer: { clock }, tokens: { clock, maxWaitMs: 10_000 } });
  scene.tokenServer.failNext(1, { type: 'hang' });
  const client = interceptedClient(scene);
  for (const call of Object.values(callTypes)) {
    const result = call(client);
    await until(() => scene.tokenServer.tokenRequestCount === 1);
    await clock.advance(10_000);
    const { error } = await result;
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.match(error?.details ?? '', /maxWaitMs/);
  }
  assert.equal(scene.grpcServer.received.length, 0);
});
