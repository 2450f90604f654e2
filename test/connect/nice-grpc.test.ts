// nice-grpc is built on grpc-js: the SDK's channel credentials go into its createChannel as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ClientError, Metadata, Status, createChannel, createClient, type Channel } from 'nice-grpc';
import { createChannelCredentials } from '../../src/index.js';
import { echoService, startScene, type Scene } from '../helpers/grpc-fixture.js';
import { until } from '../helpers/token-fixtures.js';

/** The grpc-js test service with its call kinds as literal types, which nice-grpc's client types need. */
const niceEchoService = {
  Unary: { ...echoService.Unary, requestStream: false, responseStream: false },
  ClientStream: { ...echoService.ClientStream, requestStream: true, responseStream: false },
  ServerStream: { ...echoService.ServerStream, requestStream: false, responseStream: true },
  Bidi: { ...echoService.Bidi, requestStream: true, responseStream: true },
} as const;

/** A nice-grpc client of the grpc-js test service, over createChannelCredentials; its channel closed after the test. */
function niceClient(t: { after(fn: () => void): void }, scene: Scene, channel?: Channel) {
  // The test certificate names localhost; the server listens on 127.0.0.1.
  const opened =
    channel ??
    createChannel(
      scene.grpcServer.address,
      createChannelCredentials(scene.grpcServer.channelCredentials(), scene.tokens),
      {
        'grpc.ssl_target_name_override': 'localhost',
      },
    );
  t.after(() => opened.close());
  return createClient(niceEchoService, opened);
}

// eslint-disable-next-line @typescript-eslint/require-await -- the client and server take async iterables
async function* texts(...values: string[]): AsyncIterable<{ text: string }> {
  for (const text of values) yield { text };
}

test('createChannelCredentials in nice-grpc createChannel puts one bearer token on unary, streaming and bidi calls', async (t) => {
  const scene = await startScene(t);
  const client = niceClient(t, scene);

  const unary = await client.Unary({ text: 'hello' });
  const clientStream = await client.ClientStream(texts('a', 'b'));
  const serverStream = [];
  for await (const reply of client.ServerStream({ text: 'orders' })) serverStream.push(reply.text);
  const bidi = [];
  for await (const reply of client.Bidi(texts('ping', 'pong'))) bidi.push(reply.text);

  assert.equal(unary.text, 'hello');
  assert.equal(clientStream.text, '2');
  assert.deepEqual(serverStream, ['orders-1', 'orders-2']);
  assert.deepEqual(bidi, ['ping', 'pong']);
  assert.equal(scene.grpcServer.received.length, 4);
  for (const seen of scene.grpcServer.received) {
    assert.equal(seen.authorization.length, 1, seen.method);
    assert.match(seen.authorization[0] ?? '', /^Bearer [\x21-\x7E]+$/, seen.method);
  }
  assert.equal(scene.tokenServer.tokenRequestCount, 1);
});

test('nice-grpc metadata the caller sets is sent along with the token', async (t) => {
  const scene = await startScene(t);
  const client = niceClient(t, scene);

  await client.Unary({ text: 'hello' }, { metadata: Metadata({ 'x-request-id': 'r-1' }) });

  assert.deepEqual(scene.grpcServer.received[0]?.metadata['x-request-id'], ['r-1']);
  assert.equal(scene.grpcServer.received[0]?.authorization.length, 1);
});

test('a token failure ends a nice-grpc call with a ClientError UNAUTHENTICATED that names the OAuth error', async (t) => {
  const scene = await startScene(t, { tokens: { clientSecret: 'wrong-secret-0123456789' } });
  const client = niceClient(t, scene);

  await assert.rejects(client.Unary({ text: 'hello' }), (error: unknown) => {
    assert.ok(error instanceof ClientError);
    assert.equal(error.code, Status.UNAUTHENTICATED);
    assert.match(error.details, /invalid_client/);
    assert.ok(!error.details.includes('wrong-secret-0123456789'));
    return true;
  });
  assert.equal(scene.grpcServer.received.length, 0);
});

test("a nice-grpc call aborted with its signal while the token is pending ends at once and isn't sent", async (t) => {
  const scene = await startScene(t);
  scene.tokenServer.failNext(1, { type: 'hang' });
  const client = niceClient(t, scene);
  const controller = new AbortController();

  const call = client.Unary({ text: 'hello' }, { signal: controller.signal });
  await until(() => scene.tokenServer.tokenRequestCount === 1);
  const abortedAt = performance.now();
  controller.abort();

  await assert.rejects(call, { name: 'AbortError' });
  assert.ok(performance.now() - abortedAt < 1000);
  assert.equal(scene.grpcServer.received.length, 0);
});

test("nice-grpc createChannel('host:port') without credentials is plaintext: docs/connect.md says so", async (t) => {
  const scene = await startScene(t, { tls: false });
  const channel = createChannel(scene.grpcServer.address);
  const client = niceClient(t, scene, channel);

  const reply = await client.Unary({ text: 'in the clear' });

  assert.equal(reply.text, 'in the clear');
  assert.deepEqual(scene.grpcServer.received[0]?.authorization, []);
  assert.throws(() => createChannelCredentials(grpc.credentials.createInsecure(), scene.tokens), {
    name: 'InsecureChannelError',
  });
});
