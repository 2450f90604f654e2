import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor } from '../../src/index.js';
import { bidi, clientStream, serverStream, startScene, unary, type RejectPolicy, type Scene } from '../helpers/grpc-fixture.js';

function interceptedClient(scene: Scene, retryOnUnauthenticated?: boolean): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  const interceptor = createAuthInterceptor(scene.tokens, {
    channelCredentials: tls,
    ...(retryOnUnauthenticated === undefined ? {} : { retryOnUnauthenticated }),
  });
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
