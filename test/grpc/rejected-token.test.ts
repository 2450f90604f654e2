import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/index.js';
import {
  bidi,
  clientStream,
  methodPaths,
  serverStream,
  startScene,
  unary,
  type RejectPolicy,
  type Scene,
} from '../helpers/grpc-fixture.js';

function interceptedClient(
  scene: Scene,
  retryOnUnauthenticated?: AuthInterceptorOptions['retryOnUnauthenticated'],
): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  const interceptor = createAuthInterceptor(scene.tokens, { channelCredentials: tls, retryOnUnauthenticated });
  return scene.grpcServer.client(tls, { interceptors: [interceptor] });
}

/** The server rejects the first authorization value it sees, and accepts every other. */
function rejectFirstToken(): RejectPolicy {
  let first: string | undefined;
  return (authorization) => {
    first ??= authorization;
    return authorization === first;
  };
}

test('a unary call whose token is rejected succeeds on the retry with a different token, after exactly one extra token request', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = rejectFirstToken();

  const result = await unary(interceptedClient(scene));

  assert.equal(result.error, undefined);
  const [rejected, accepted] = scene.grpcServer.received;
  assert.equal(scene.grpcServer.received.length, 2);
  assert.notDeepEqual(rejected?.authorization, accepted?.authorization);
  assert.deepEqual(result.replies[0]?.authorization, accepted?.authorization);
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

test('a server-streaming call whose token is rejected before any response gets every response on the retry', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = rejectFirstToken();

  const result = await serverStream(interceptedClient(scene), { text: 'orders' });

  assert.equal(result.error, undefined);
  assert.deepEqual(
    result.replies.map((reply) => reply.text),
    ['orders-1', 'orders-2'],
  );
  assert.equal(scene.grpcServer.received.length, 2);
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

test('the rejected token is invalidated: the next call uses the new one without another token request', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = rejectFirstToken();
  const client = interceptedClient(scene);

  const retried = await unary(client);
  const next = await unary(client);

  assert.deepEqual(next.replies[0]?.authorization, retried.replies[0]?.authorization);
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

test('a token rejected again on the retry ends the call UNAUTHENTICATED: one retry, no more', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = () => true;

  const result = await unary(interceptedClient(scene));

  assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(scene.grpcServer.received.length, 2);
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

test('retryOnUnauthenticated: false ends the call UNAUTHENTICATED without another token request', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = rejectFirstToken();

  const result = await unary(interceptedClient(scene, false));

  assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(scene.grpcServer.received.length, 1);
  assert.equal(scene.tokenServer.tokenRequestCount, 1);
});

for (const [name, call] of [
  ['client-streaming', clientStream],
  ['bidi', bidi],
] as const) {
  test(`a ${name} call whose token is rejected is not replayed`, async (t) => {
    const scene = await startScene(t);
    scene.grpcServer.rejectIf = rejectFirstToken();

    const result = await call(interceptedClient(scene));

    assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(scene.grpcServer.received.length, 1);
    assert.equal(scene.tokenServer.tokenRequestCount, 1);
  });
}

test("a call sent with the caller's own authorization is not retried and invalidates nothing", async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = () => true;
  const metadata = new grpc.Metadata();
  metadata.set('authorization', 'Bearer caller-token');

  const result = await unary(interceptedClient(scene), { metadata });

  assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(scene.grpcServer.received.length, 1);
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});

test('a cached token the server starts rejecting (revoked) is replaced on the retry of the next call', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene);
  const warm = await unary(client);
  assert.equal(warm.error, undefined);
  const revoked = warm.replies[0]?.authorization[0];
  scene.grpcServer.rejectIf = (authorization) => authorization === revoked;

  const result = await unary(client);

  assert.equal(result.error, undefined);
  assert.notEqual(result.replies[0]?.authorization[0], revoked);
  assert.deepEqual(
    scene.grpcServer.received.map((call) => call.authorization[0] === revoked),
    [true, true, false],
    'served from the cache, rejected, then sent again with a fresh token',
  );
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

for (const [name, call] of [
  ['client-streaming', clientStream],
  ['bidi', bidi],
] as const) {
  test(`the token a ${name} call had rejected is invalidated: the next call gets a new one`, async (t) => {
    const scene = await startScene(t);
    scene.grpcServer.rejectIf = rejectFirstToken();
    const client = interceptedClient(scene);

    const rejected = await call(client);
    const next = await call(client);

    assert.equal(rejected.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(next.error, undefined);
    const [first, second] = scene.grpcServer.received;
    assert.notDeepEqual(second?.authorization, first?.authorization);
    assert.equal(scene.tokenServer.tokenRequestCount, 2);
  });
}

test('20 later calls after a bidi call had its token revoked all get a new token', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene);
  const warm = await bidi(client);
  const revoked = warm.replies[0]?.authorization[0];
  scene.grpcServer.rejectIf = (authorization) => authorization === revoked;

  const rejected = await bidi(client);
  const later = [];
  for (let i = 0; i < 20; i++) later.push(await bidi(client));

  assert.equal(rejected.error?.code, grpc.status.UNAUTHENTICATED);
  assert.deepEqual(
    later.map((result) => result.error?.code),
    Array.from({ length: 20 }, () => undefined),
  );
  for (const result of later) assert.notEqual(result.replies[0]?.authorization[0], revoked);
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

test('50 sequential calls to a server that rejects every token cause at most 5 token requests, and no call is sent more than twice', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = () => true;
  const client = interceptedClient(scene);

  for (let i = 0; i < 50; i++) {
    const result = await unary(client, { text: `call-${i}` });
    assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  }

  assert.ok(scene.tokenServer.tokenRequestCount <= 5, `${scene.tokenServer.tokenRequestCount} token requests`);
  const sends = new Map<string | undefined, number>();
  for (const received of scene.grpcServer.received) sends.set(received.text, (sends.get(received.text) ?? 0) + 1);
  assert.equal(sends.size, 50);
  assert.ok(Math.max(...sends.values()) <= 2, `a call was sent ${Math.max(...sends.values())} times`);
});

test('retryOnUnauthenticated as a function opts single methods out of the replay', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = () => true;
  const asked: string[] = [];
  const tls = scene.grpcServer.channelCredentials();
  const interceptor = createAuthInterceptor(scene.tokens, {
    channelCredentials: tls,
    // A scope set per method: forced refreshes are limited per scope set, and this test is about the replay.
    scopesFor: (method) => (method === methodPaths.unary ? ['orders.write'] : undefined),
    retryOnUnauthenticated: (method) => {
      asked.push(method);
      return method !== methodPaths.unary;
    },
  });
  const client = scene.grpcServer.client(tls, { interceptors: [interceptor] });

  const optedOut = await unary(client);
  const replayed = await serverStream(client);
  await unary(client);

  assert.equal(optedOut.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(replayed.error?.code, grpc.status.UNAUTHENTICATED);
  assert.deepEqual(
    scene.grpcServer.received.map((call) => call.method),
    [methodPaths.unary, methodPaths.serverStream, methodPaths.serverStream, methodPaths.unary],
  );
  assert.deepEqual(asked, [methodPaths.unary, methodPaths.serverStream], 'asked once per method');
});

test('the replay carries the same request metadata as the first attempt, apart from the new token', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = rejectFirstToken();
  const metadata = new grpc.Metadata();
  metadata.add('x-tag', 'a');
  metadata.add('x-tag', 'b');
  metadata.set('x-request-id', 'req-42');

  const result = await unary(interceptedClient(scene), { metadata });

  assert.equal(result.error, undefined);
  const [first, replay] = scene.grpcServer.received;
  const { authorization: firstAuthorization, ...firstRest } = first?.metadata ?? {};
  const { authorization: replayAuthorization, ...replayRest } = replay?.metadata ?? {};
  assert.notDeepEqual(replayAuthorization, firstAuthorization);
  assert.deepEqual(replayRest, firstRest);
  // HTTP/2 joins the two values into one header; the replay must not have added them twice.
  assert.deepEqual(replayRest['x-tag'], ['a, b']);
});

test('a provider whose invalidate() answers false (it kept the token) gets no replay, also without getCachedToken', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = rejectFirstToken();
  let invalidations = 0;
  let tokenAsks = 0;
  const keeping = {
    getToken: (options?: Parameters<Scene['tokens']['getToken']>[0]) => {
      tokenAsks++;
      return scene.tokens.getToken(options);
    },
    invalidate: () => {
      invalidations++;
      return false;
    },
  };
  const tls = scene.grpcServer.channelCredentials();
  const client = scene.grpcServer.client(tls, {
    interceptors: [createAuthInterceptor(keeping, { channelCredentials: tls })],
  });

  const result = await unary(client);

  assert.equal(result.error?.code, grpc.status.UNAUTHENTICATED);
  assert.equal(invalidations, 1);
  assert.equal(tokenAsks, 1, 'no second attempt was even started');
  assert.equal(scene.grpcServer.received.length, 1, 'sent once');
});
