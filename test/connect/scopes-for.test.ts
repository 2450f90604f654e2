import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code } from '@connectrpc/connect';
import { decodeJwt } from 'jose';
import { createConnectAuthInterceptor, type ConnectAuthInterceptorOptions } from '../../src/connect/index.js';
import { callKinds, echoClient, startConnectScene, type ConnectScene, type EchoClient } from './connect-fixture.js';

function client(scene: ConnectScene, options: ConnectAuthInterceptorOptions): Promise<EchoClient> {
  return echoClient('grpc', scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens, options)]);
}

/** The `scope` claim of the token a call carried. */
function scopeOf(authorization: string | undefined): unknown {
  return decodeJwt(authorization?.slice('Bearer '.length) ?? '').scope;
}

test('scopesFor gives each method its own scope set, each token fetched once and reused', async (t) => {
  const scene = await startConnectScene(t);
  const asked: string[] = [];
  const echo = await client(scene, {
    scopesFor: (method) => {
      asked.push(method);
      return method === '/test.v1.Echo/Unary'
        ? ['orders.write']
        : method === '/test.v1.Echo/Bidi'
          ? ['inventory.read', 'orders.read']
          : undefined;
    },
  });

  for (const call of [callKinds.unary, callKinds.bidi, callKinds.serverStream, callKinds.unary, callKinds.bidi])
    assert.equal((await call(echo)).error, undefined);

  const scopes = scene.server.received.map((seen) => scopeOf(seen.authorization[0]));
  assert.deepEqual(scopes, [
    'orders.write',
    'inventory.read orders.read',
    'orders.read',
    'orders.write',
    'inventory.read orders.read',
  ]);
  assert.equal(scene.tokenServer.tokenRequestCount, 3);
  assert.deepEqual(asked, ['/test.v1.Echo/Unary', '/test.v1.Echo/Bidi', '/test.v1.Echo/ServerStream']);
});

test('a scopesFor that throws ends that call Internal, naming the method but not its message, and nothing is sent', async (t) => {
  const scene = await startConnectScene(t);
  const echo = await client(scene, {
    scopesFor: (method) => {
      if (method.endsWith('/Unary')) throw new RangeError('secret-ish detail');
      return undefined;
    },
  });

  const failed = await callKinds.unary(echo);
  const other = await callKinds.serverStream(echo);

  assert.equal(failed.error?.code, Code.Internal);
  assert.match(failed.error.rawMessage, /scopesFor\('\/test.v1.Echo\/Unary'\) threw RangeError/);
  assert.ok(!failed.error.rawMessage.includes('secret-ish'));
  assert.equal(other.error, undefined);
  assert.equal(scene.server.received.length, 1);
});

test('a scopesFor returning something other than scope strings ends the call Internal, and is asked again next time', async (t) => {
  const scene = await startConnectScene(t);
  let answer: unknown = 'orders.read';
  const echo = await client(scene, { scopesFor: () => answer as string[] });

  const wrongType = await callKinds.bidi(echo);
  answer = ['has space'];
  const badScope = await callKinds.bidi(echo);
  answer = ['orders.read'];
  const fixed = await callKinds.bidi(echo);

  assert.equal(wrongType.error?.code, Code.Internal);
  assert.match(wrongType.error.rawMessage, /must return an array of scope strings or undefined, not a string/);
  assert.equal(badScope.error?.code, Code.Internal);
  assert.equal(fixed.error, undefined);
  assert.equal(scene.server.received.length, 1);
});

test('a retryOnUnauthenticated function that throws ends the unary call Internal without a synchronous throw', async (t) => {
  const scene = await startConnectScene(t);
  const echo = await client(scene, {
    retryOnUnauthenticated: () => {
      throw new Error('boom');
    },
  });

  let pending: Promise<unknown> | undefined;
  assert.doesNotThrow(() => (pending = echo.unary({ text: 'x' })));
  await assert.rejects(pending!, (error: { code?: unknown; rawMessage?: string }) => {
    assert.equal(error.code, Code.Internal);
    assert.match(error.rawMessage ?? '', /retryOnUnauthenticated\('\/test.v1.Echo\/Unary'\) threw Error/);
    return true;
  });
  assert.equal(scene.server.received.length, 0);
});
