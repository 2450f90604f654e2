import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createCallCredentials, createChannelCredentials } from '../../src/index.js';
import { openBidi, startScene, unary, type Scene } from '../helpers/grpc-fixture.js';

function interceptedClient(scene: Scene): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  return scene.grpcServer.client(tls, {
    interceptors: [createAuthInterceptor(scene.tokens, { channelCredentials: tls })],
  });
}

function callerAuthorization(value: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', value);
  return metadata;
}

test("the caller's own authorization metadata wins, and another open bidi stream on the channel survives", async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene);
  const stream = openBidi(client);
  stream.stream.write({ text: 'before' });
  const before = await stream.nextReply();

  const result = await unary(client, { metadata: callerAuthorization('Bearer from-the-caller') });

  assert.equal(result.error, undefined);
  assert.deepEqual(result.replies[0]?.authorization, ['Bearer from-the-caller']);
  stream.stream.write({ text: 'after' });
  const after = await stream.nextReply();
  assert.equal(after.text, 'after');
  assert.deepEqual(after.authorization, before.authorization);
  stream.stream.end();
  assert.equal((await stream.ended).error, undefined);
});

test("an authorization from the caller's per-call credentials wins too, with the rest of their metadata", async (t) => {
  const scene = await startScene(t);
  const client = interceptedClient(scene);
  const stream = openBidi(client);
  stream.stream.write({ text: 'before' });
  await stream.nextReply();
  const callerCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = callerAuthorization('Bearer from-caller-credentials');
    metadata.set('x-tenant', 'acme');
    callback(null, metadata);
  });

  const result = await unary(client, { options: { credentials: callerCredentials } });

  assert.equal(result.error, undefined);
  assert.deepEqual(result.replies[0]?.authorization, ['Bearer from-caller-credentials']);
  assert.deepEqual(result.replies[0]?.metadata['x-tenant'], ['acme']);
  stream.stream.write({ text: 'after' });
  assert.equal((await stream.nextReply()).text, 'after');
  stream.stream.end();
  assert.equal((await stream.ended).error, undefined);
});

test('per-call credentials without authorization are kept, and ours is added', async (t) => {
  const scene = await startScene(t);
  const callerCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('x-tenant', 'acme');
    callback(null, metadata);
  });

  const result = await unary(interceptedClient(scene), { options: { credentials: callerCredentials } });

  const { accessToken } = await scene.tokens.getToken();
  assert.deepEqual(result.replies[0]?.authorization, [`Bearer ${accessToken}`]);
  assert.deepEqual(result.replies[0]?.metadata['x-tenant'], ['acme']);
});

test('credentials from createChannelCredentials are refused by createAuthInterceptor: both would attach a token', async (t) => {
  const scene = await startScene(t);
  const withToken = createChannelCredentials(scene.grpcServer.channelCredentials(), scene.tokens);

  assert.throws(
    () => createAuthInterceptor(scene.tokens, { channelCredentials: withToken }),
    /already carry call credentials/,
  );
});

test('TLS credentials combined with any call credentials are refused by createAuthInterceptor, plain TLS is not', async (t) => {
  const scene = await startScene(t);
  const tls = scene.grpcServer.channelCredentials();
  const combined = grpc.credentials.combineChannelCredentials(
    tls,
    createCallCredentials(scene.tokens, { channelCredentials: tls }),
  );
  const foreign = grpc.credentials.combineChannelCredentials(
    tls,
    grpc.credentials.createFromMetadataGenerator((_params, callback) => callback(null, new grpc.Metadata())),
  );
  assert.throws(
    () => createAuthInterceptor(scene.tokens, { channelCredentials: combined }),
    /already carry call credentials/,
  );
  assert.throws(
    () => createAuthInterceptor(scene.tokens, { channelCredentials: foreign }),
    /already carry call credentials/,
  );
  assert.doesNotThrow(() => createAuthInterceptor(scene.tokens, { channelCredentials: tls }));
});

test('without the interceptor, grpc-js fails a call with two authorization values and takes the open stream down with it', async (t) => {
  // Pins the hazard docs/grpc.md describes for createChannelCredentials: never set authorization yourself there.
  const scene = await startScene(t);
  const client = scene.grpcServer.client(createChannelCredentials(scene.grpcServer.channelCredentials(), scene.tokens));
  const stream = openBidi(client, { options: { deadline: Date.now() + 5000 } });
  stream.stream.write({ text: 'before' });
  await stream.nextReply();

  const result = await unary(client, { metadata: callerAuthorization('Bearer from-the-caller') });

  assert.equal(result.error?.code, grpc.status.INTERNAL);
  const ended = await stream.ended;
  assert.notEqual(ended.error, undefined);
});
