import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code } from '@connectrpc/connect';
import type { AccessToken, TokenProvider } from '../../src/index.js';
import { createConnectAuthInterceptor, type ConnectAuthInterceptorOptions } from '../../src/connect/index.js';
import {
  callKinds,
  echoClient,
  protocols,
  startConnectScene,
  type ConnectScene,
  type EchoClient,
  type RejectPolicy,
} from './connect-fixture.js';

function client(
  scene: ConnectScene,
  options?: ConnectAuthInterceptorOptions,
  protocol: 'connect' | 'grpc' = 'connect',
): Promise<EchoClient> {
  return echoClient(protocol, scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens, options)]);
}

/** The server rejects the first authorization value it sees, and accepts every other. */
function rejectFirstToken(): RejectPolicy {
  let first: string | null | undefined;
  return (authorization) => (first ??= authorization) === authorization;
}

for (const protocol of protocols) {
  test(`a ${protocol} unary call whose token is rejected succeeds on the one replay, with a fresh token`, async (t) => {
    const scene = await startConnectScene(t);
    scene.server.rejectIf = rejectFirstToken();

    const result = await callKinds.unary(await client(scene, undefined, protocol));

    assert.equal(result.error, undefined);
    const [rejected, accepted] = scene.server.received;
    assert.equal(scene.server.received.length, 2);
    assert.notDeepEqual(rejected?.authorization, accepted?.authorization);
    assert.equal(accepted?.authorization.length, 1);
    assert.equal(scene.tokenServer.tokenRequestCount, 2);
  });
}

test('a unary call rejected again on the replay ends Unauthenticated after two attempts on the wire', async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = () => true;

  const result = await callKinds.unary(await client(scene));

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.equal(scene.server.received.length, 2);
});

test('a server that rejects every token causes a handful of token requests, not one per call', async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = () => true;
  const echo = await client(scene);

  for (let i = 0; i < 10; i++) assert.equal((await callKinds.unary(echo)).error?.code, Code.Unauthenticated);

  assert.ok(scene.tokenServer.tokenRequestCount <= 3, `${scene.tokenServer.tokenRequestCount} token requests`);
  assert.ok(scene.server.received.length <= 12, `${scene.server.received.length} attempts`);
});

test('the rejected token is invalidated: the next call uses the new one without another token request', async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = rejectFirstToken();
  const echo = await client(scene);

  const replayed = await callKinds.unary(echo);
  const next = await callKinds.unary(echo);

  assert.deepEqual(next.replies[0]?.authorization, replayed.replies[0]?.authorization);
  assert.equal(scene.tokenServer.tokenRequestCount, 2);
});

test('retryOnUnauthenticated: false ends a rejected unary call after one attempt', async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = rejectFirstToken();

  const result = await callKinds.unary(await client(scene, { retryOnUnauthenticated: false }));

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.equal(scene.server.received.length, 1);
});

test('retryOnUnauthenticated as a function is asked with the method path and decides per method', async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = () => true;
  const asked: string[] = [];

  const result = await callKinds.unary(
    await client(scene, { retryOnUnauthenticated: (method) => (asked.push(method), false) }),
  );

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.deepEqual(asked, ['/test.v1.Echo/Unary']);
  assert.equal(scene.server.received.length, 1);
});

for (const kind of ['clientStream', 'serverStream', 'bidi'] as const) {
  test(`a rejected ${kind} call is not made again, and its token is invalidated`, async (t) => {
    const scene = await startConnectScene(t);
    scene.server.rejectIf = rejectFirstToken();
    const echo = await client(scene);

    const rejected = await callKinds[kind](echo);
    const next = await callKinds[kind](echo);

    assert.equal(rejected.error?.code, Code.Unauthenticated);
    assert.equal(next.error, undefined);
    assert.equal(scene.server.received.length, 2);
    assert.notDeepEqual(scene.server.received[0]?.authorization, scene.server.received[1]?.authorization);
    assert.equal(scene.tokenServer.tokenRequestCount, 2);
  });
}

test('a provider that keeps the rejected token (invalidate returns false) gets no replay, even with another token at hand', async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = () => true;
  let issued = 0;
  const invalidated: string[] = [];
  const keeping: TokenProvider = {
    getToken: () => Promise.resolve({ accessToken: `token-${++issued}` } as AccessToken),
    invalidate: (accessToken) => (invalidated.push(accessToken), false),
  };

  const result = await callKinds.unary(
    await echoClient('grpc', scene.server.baseUrl, [createConnectAuthInterceptor(keeping)]),
  );

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.equal(scene.server.received.length, 1);
  assert.deepEqual(invalidated, ['token-1']);
});

test("a rejected call that carried the caller's own authorization is neither replayed nor invalidates anything", async (t) => {
  const scene = await startConnectScene(t);
  scene.server.rejectIf = () => true;
  const echo = await client(scene);

  const result = await callKinds.unary(echo, { headers: { authorization: 'Bearer callers-own' } });

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.equal(scene.server.received.length, 1);
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});
