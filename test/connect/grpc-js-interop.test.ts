import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, createClient } from '@connectrpc/connect';
import { createConnectAuthInterceptor } from '../../src/connect/index.js';
import { startScene } from '../helpers/grpc-fixture.js';
import { callKinds, transportFor, type EchoClient } from './connect-fixture.js';
import { EchoService } from './echo-service.js';

/**
 * A Connect client on the gRPC protocol to the grpc-js test server (which speaks JSON messages,
 * hence `useBinaryFormat: false`; its replies carry a field this schema does not know).
 */
async function grpcJsClient(scene: Awaited<ReturnType<typeof startScene>>): Promise<EchoClient> {
  const transport = await transportFor(
    'grpc',
    `https://${scene.grpcServer.address}`,
    [createConnectAuthInterceptor(scene.tokens)],
    {
      caCert: scene.grpcServer.caCert,
      useBinaryFormat: false,
      jsonOptions: { ignoreUnknownFields: true },
    },
  );
  return createClient(EchoService, transport);
}

test('every call kind through createGrpcTransport reaches a grpc-js server with exactly one bearer token', async (t) => {
  const scene = await startScene(t);
  const client = await grpcJsClient(scene);

  for (const [kind, call] of Object.entries(callKinds)) {
    const result = await call(client);
    assert.equal(result.error, undefined, `${kind}: ${result.error?.message}`);
    const seen = scene.grpcServer.received.at(-1);
    assert.equal(seen?.authorization.length, 1, kind);
    assert.match(seen.authorization[0] ?? '', /^Bearer [\x21-\x7E]+$/, kind);
  }
  assert.equal(scene.grpcServer.received.length, 4);
  assert.equal(scene.tokenServer.tokenRequestCount, 1);
});

test('a grpc-js server that rejects the first token gets the unary call once more with a fresh one', async (t) => {
  const scene = await startScene(t);
  let first: string | undefined;
  scene.grpcServer.rejectIf = (authorization) => (first ??= authorization) === authorization;
  const client = await grpcJsClient(scene);

  const result = await callKinds.unary(client);

  assert.equal(result.error, undefined);
  const [rejected, accepted] = scene.grpcServer.received;
  assert.equal(scene.grpcServer.received.length, 2);
  assert.notDeepEqual(rejected?.authorization, accepted?.authorization);
});

test('a grpc-js server rejecting a streaming call ends it Unauthenticated without a second attempt', async (t) => {
  const scene = await startScene(t);
  scene.grpcServer.rejectIf = () => true;
  const client = await grpcJsClient(scene);

  const result = await callKinds.bidi(client);

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.equal(scene.grpcServer.received.length, 1);
});
