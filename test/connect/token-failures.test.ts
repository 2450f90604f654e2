import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, type ConnectError } from '@connectrpc/connect';
import { TokenError, type AccessToken, type TokenProvider } from '../../src/index.js';
import { createConnectAuthInterceptor } from '../../src/connect/index.js';
import { clientSecret, dpopBoundProvider, until } from '../helpers/token-fixtures.js';
import { callKinds, echoClient, protocols, startConnectScene } from './connect-fixture.js';

/** Everything of an error a program or a log could show. */
function everyText(error: ConnectError): string {
  return [
    error.message,
    error.rawMessage,
    JSON.stringify(error.details),
    JSON.stringify(error.cause),
    String(error.cause),
    error.stack,
  ].join('\n');
}

for (const protocol of protocols) {
  test(`a hung token server and timeoutMs: 500 end a ${protocol} call DeadlineExceeded on time, without sending it`, async (t) => {
    const scene = await startConnectScene(t);
    scene.tokenServer.failNext(1, { type: 'hang' });
    const client = await echoClient(protocol, scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

    const started = performance.now();
    const result = await callKinds.unary(client, { timeoutMs: 500 });
    const elapsedMs = performance.now() - started;

    assert.equal(result.error?.code, Code.DeadlineExceeded);
    assert.ok(elapsedMs >= 450 && elapsedMs < 1500, `ended after ${elapsedMs} ms`);
    assert.equal(scene.server.received.length, 0);
  });
}

test('an aborted signal ends a streaming call Canceled at once while its token is pending', async (t) => {
  const scene = await startConnectScene(t);
  scene.tokenServer.failNext(1, { type: 'hang' });
  const client = await echoClient('connect', scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);
  const controller = new AbortController();

  const pending = (async () => {
    try {
      for await (const _ of client.serverStream({ text: 'x' }, { signal: controller.signal }));
    } catch (error) {
      return error as ConnectError;
    }
  })();
  await until(() => scene.tokenServer.tokenRequestCount === 1);
  const abortedAt = performance.now();
  controller.abort();
  const error = await pending;

  assert.equal(error?.code, Code.Canceled);
  assert.ok(performance.now() - abortedAt < 1000);
  assert.equal(scene.server.received.length, 0);
});

test('a wrong client secret ends every call kind Unauthenticated, naming invalid_client and never a secret', async (t) => {
  const wrongSecret = 'wrong-Secret-that-must-not-leak-9876543210';
  const scene = await startConnectScene(t, { tokens: { clientSecret: wrongSecret } });
  const client = await echoClient('grpc', scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

  for (const [kind, call] of Object.entries(callKinds)) {
    const result = await call(client);
    assert.equal(result.error?.code, Code.Unauthenticated, kind);
    assert.match(result.error.rawMessage, /no OAuth2 access token \(invalid_client\): .*token endpoint/, kind);
    assert.ok(result.error.cause instanceof TokenError, kind);
    const text = everyText(result.error);
    assert.ok(!text.includes(wrongSecret) && !text.includes(clientSecret), kind);
  }
  assert.equal(scene.server.received.length, 0);
});

test('an unreachable token server ends every call kind Unavailable, never naming a secret', async (t) => {
  const scene = await startConnectScene(t);
  await scene.tokenServer.close();
  const client = await echoClient('connect', scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

  for (const [kind, call] of Object.entries(callKinds)) {
    const result = await call(client);
    assert.equal(result.error?.code, Code.Unavailable, kind);
    assert.match(result.error.rawMessage, /no OAuth2 access token \(network\)/, kind);
    assert.ok(!everyText(result.error).includes(clientSecret), kind);
  }
  assert.equal(scene.server.received.length, 0);
});

test("a token provider's own error message is withheld and not kept as the cause", async (t) => {
  const scene = await startConnectScene(t);
  const leaky: TokenProvider = {
    getToken: () => Promise.reject(new Error(`could not use ${clientSecret}`)),
    invalidate: () => true,
  };
  const client = await echoClient('connect', scene.server.baseUrl, [createConnectAuthInterceptor(leaky)]);

  const result = await callKinds.unary(client);

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.match(result.error.rawMessage, /failed with Error \(message withheld\)/);
  assert.ok(!everyText(result.error).includes(clientSecret));
});

test('a token provider that resolves with no usable token ends the call Unauthenticated without sending it', async (t) => {
  const scene = await startConnectScene(t);
  const broken: TokenProvider = {
    getToken: () => Promise.resolve({ accessToken: 'has space' } as AccessToken),
    invalidate: () => true,
  };
  const client = await echoClient('grpc', scene.server.baseUrl, [createConnectAuthInterceptor(broken)]);

  const result = await callKinds.unary(client);

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.match(result.error.rawMessage, /characters not allowed in a header/);
  assert.ok(!result.error.rawMessage.includes('has space'));
  assert.equal(scene.server.received.length, 0);
});

test("a custom provider's getCachedToken() answering null, a string or a throw leaves the call to getToken()", async (t) => {
  const scene = await startConnectScene(t);
  const { accessToken } = await scene.tokens.getToken();
  for (const getCachedToken of [() => null, () => 'not-an-access-token-object', () => assert.fail('cache bug')]) {
    const odd = {
      getToken: () => scene.tokens.getToken(),
      getCachedToken,
      invalidate: (token: string) => scene.tokens.invalidate(token),
    } as unknown as TokenProvider;
    const client = await echoClient('connect', scene.server.baseUrl, [createConnectAuthInterceptor(odd)]);

    const result = await callKinds.unary(client);

    assert.equal(result.error, undefined, String(getCachedToken));
    assert.deepEqual(result.replies[0]?.authorization, [`Bearer ${accessToken}`]);
  }
});

test('a DPoP-bound token ends every Connect call Internal, unsent, saying per-RPC DPoP proofs are not supported yet', async (t) => {
  const scene = await startConnectScene(t);
  const { token, tokens: dpopTokens } = dpopBoundProvider();
  for (const protocol of protocols) {
    const client = await echoClient(protocol, scene.server.baseUrl, [createConnectAuthInterceptor(dpopTokens)]);
    const result = await callKinds.unary(client);
    assert.equal(result.error?.code, Code.Internal, protocol);
    assert.match(result.error.rawMessage, /DPoP-bound.*per-RPC DPoP proofs are not supported yet/, protocol);
    assert.ok(!everyText(result.error).includes(token.accessToken), protocol);
  }
  assert.equal(scene.server.received.length, 0);
});
