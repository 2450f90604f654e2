import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  createAuthInterceptor,
  createCallCredentials,
  createChannelCredentials,
  InsecureChannelError,
} from '../../src/index.js';
import { callTypes, startScene, unary } from '../helpers/grpc-fixture.js';

test('createChannelCredentials refuses insecure channel credentials with a message that says to use TLS', async (t) => {
  const scene = await startScene(t, { tls: false });

  assert.throws(
    () => createChannelCredentials(grpc.credentials.createInsecure(), scene.tokens),
    (err: unknown) =>
      err instanceof InsecureChannelError &&
      err.code === 'insecure_channel' &&
      err.message.includes('grpc.credentials.createSsl') &&
      // Ours, not grpc-js's generic "Cannot compose insecure credentials".
      !err.message.includes('Cannot compose'),
  );
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});

test('createAuthInterceptor refuses insecure channel credentials at construction', async (t) => {
  const scene = await startScene(t, { tls: false });
  const insecure = grpc.credentials.createInsecure();

  assert.throws(
    () => createAuthInterceptor(scene.tokens, { channelCredentials: insecure }),
    (err: unknown) => err instanceof InsecureChannelError && err.message.includes('allowInsecureChannel'),
  );
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});

test('after the refusal a plaintext server sees no authorization at all', async (t) => {
  const scene = await startScene(t, { tls: false });
  const insecure = grpc.credentials.createInsecure();
  assert.throws(() => scene.grpcServer.client(createChannelCredentials(insecure, scene.tokens)), InsecureChannelError);
  assert.throws(
    () =>
      scene.grpcServer.client(insecure, {
        interceptors: [createAuthInterceptor(scene.tokens, { channelCredentials: insecure })],
      }),
    InsecureChannelError,
  );

  // The application carries on without our helpers: every call type reaches the server without a token.
  const client = scene.grpcServer.client(insecure);
  for (const call of Object.values(callTypes)) assert.equal((await call(client)).error, undefined);

  assert.equal(scene.grpcServer.received.length, 4);
  for (const received of scene.grpcServer.received) assert.deepEqual(received.authorization, []);
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});

test('grpc-js itself sends raw per-call credentials over plaintext, which is why they are the least safe way', async (t) => {
  const scene = await startScene(t, { tls: false });
  const client = scene.grpcServer.client(grpc.credentials.createInsecure());
  // Made for a TLS channel, then passed per call on a plaintext one: nothing can see the mismatch.
  const madeForTls = createCallCredentials(scene.tokens, { channelCredentials: grpc.credentials.createSsl() });

  const result = await unary(client, { options: { credentials: madeForTls } });

  // Pins the grpc-js behaviour docs/grpc.md warns about; if this ever fails, grpc-js closed the hole.
  assert.equal(result.error, undefined);
  assert.equal(result.replies[0]?.authorization.length, 1);
});

test('allowInsecureChannel sends tokens over plaintext after one warning per process, which names no token', async (t) => {
  const scene = await startScene(t, { tls: false });
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === 'InsecureChannelWarning') warnings.push(warning);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const insecure = grpc.credentials.createInsecure();

  const first = createAuthInterceptor(scene.tokens, { channelCredentials: insecure, allowInsecureChannel: true });
  createAuthInterceptor(scene.tokens, { channelCredentials: insecure, allowInsecureChannel: true });
  const result = await unary(scene.grpcServer.client(insecure, { interceptors: [first] }));
  await new Promise((resolve) => setImmediate(resolve)); // 'warning' is emitted on the next tick

  assert.equal(result.error, undefined);
  const { accessToken } = await scene.tokens.getToken();
  assert.deepEqual(result.replies[0]?.authorization, [`Bearer ${accessToken}`]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /PLAINTEXT/);
  assert.ok(!warnings[0]?.message.includes(accessToken));
});

test('channel credentials that are not grpc-js ChannelCredentials are a TypeError naming the option', async (t) => {
  const scene = await startScene(t, { tls: false });
  const notCredentials = {} as grpc.ChannelCredentials;

  assert.throws(
    () => createAuthInterceptor(scene.tokens, { channelCredentials: notCredentials }),
    /channelCredentials must be/,
  );
  assert.throws(() => createChannelCredentials(notCredentials, scene.tokens), /channelCredentials must be/);
});
