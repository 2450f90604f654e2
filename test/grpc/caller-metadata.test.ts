import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor } from '../../src/index.js';
import { callTypes, startScene, unary, type Scene } from '../helpers/grpc-fixture.js';

function interceptedClient(scene: Scene): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  return scene.grpcServer.client(tls, {
    interceptors: [createAuthInterceptor(scene.tokens, { channelCredentials: tls })],
  });
}

test("the caller's Metadata object is left as it was by every call type", async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene);
  await scene.tokens.getToken(); // cached: the interceptor's fast path

  for (const call of Object.values(callTypes)) {
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', 'req-42');
    const result = await call(client, { metadata });

    assert.equal(result.error, undefined);
    assert.deepEqual(metadata.toJSON(), { 'x-request-id': ['req-42'] });
  }
});

test('a Metadata object reused for every call gets the current token each time, not the first one', async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene);
  await scene.tokens.getToken(); // cached: the interceptor's fast path
  const shared = new grpc.Metadata();
  shared.set('x-tenant', 'acme');
  const first = await unary(client, { metadata: shared });
  const revoked = first.replies[0]?.authorization[0];
  scene.grpcServer.rejectIf = (authorization) => authorization === revoked;

  const second = await unary(client, { metadata: shared });

  assert.equal(second.error, undefined);
  assert.notEqual(second.replies[0]?.authorization[0], revoked);
});
