import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/index.js';
import { callTypes, methodPaths, serverStream, startScene, unary, type Scene } from '../helpers/grpc-fixture.js';

function interceptedClient(scene: Scene, options: Omit<AuthInterceptorOptions, 'channelCredentials'>): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  return scene.grpcServer.client(tls, {
    interceptors: [createAuthInterceptor(scene.tokens, { ...options, channelCredentials: tls })],
  });
}

test('a scopesFor that throws ends that call INTERNAL naming the method, without throwing out of the call', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene, {
    scopesFor: () => {
      throw new RangeError('no scopes configured');
    },
  });

  for (const call of Object.values(callTypes)) {
    const result = await call(client);
    assert.equal(result.error?.code, grpc.status.INTERNAL);
    assert.match(result.error.details, /scopesFor\('\/test\.v1\.Echo\/\w+'\) threw RangeError/);
  }
  assert.equal(scene.grpcServer.received.length, 0);
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});

test('a scopesFor that returns something other than scopes ends that call INTERNAL saying what it returned', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene, { scopesFor: () => 'orders.read' as never });

  const result = await unary(client);

  assert.equal(result.error?.code, grpc.status.INTERNAL);
  assert.match(
    result.error.details,
    /scopesFor\('\/test\.v1\.Echo\/Unary'\) must return an array of scope strings or undefined/,
  );
  assert.equal(scene.grpcServer.received.length, 0);
});

test('a scopesFor that fails for one method leaves the other methods working', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene, {
    scopesFor: (method) => (method === methodPaths.unary ? ['orders read'] : undefined),
  });

  const broken = await unary(client);
  const working = await serverStream(client);

  assert.equal(broken.error?.code, grpc.status.INTERNAL);
  assert.match(broken.error.details, /non-empty scope strings/);
  assert.equal(working.error, undefined);
});

test('a retryOnUnauthenticated function that throws ends that call INTERNAL naming the method', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene, {
    retryOnUnauthenticated: () => {
      throw new Error('boom');
    },
  });

  const result = await unary(client);

  assert.equal(result.error?.code, grpc.status.INTERNAL);
  assert.match(result.error.details, /retryOnUnauthenticated\('\/test\.v1\.Echo\/Unary'\) threw Error/);
});
