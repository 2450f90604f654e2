// Per-RPC DPoP proofs are not sent yet: a DPoP-bound token (TokenManager `dpop`) must end a grpc-js
// call with a clear INTERNAL status on every client path, never go out as `authorization: Bearer`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createCallCredentials, createChannelCredentials } from '../../src/index.js';
import { startScene, unary } from '../helpers/grpc-fixture.js';
import { dpopBoundProvider } from '../helpers/token-fixtures.js';

test('a DPoP-bound token ends the call INTERNAL on channel credentials, call credentials and the interceptor, unsent', async (t) => {
  const scene = await startScene(t);
  const { token, tokens: dpopTokens } = dpopBoundProvider();
  const tls = scene.grpcServer.channelCredentials();
  const clients = {
    'channel credentials': scene.grpcServer.client(createChannelCredentials(tls, dpopTokens)),
    'call credentials': scene.grpcServer.client(
      grpc.credentials.combineChannelCredentials(tls, createCallCredentials(dpopTokens, { channelCredentials: tls })),
    ),
    interceptor: scene.grpcServer.client(tls, {
      interceptors: [createAuthInterceptor(dpopTokens, { channelCredentials: tls })],
    }),
  };
  for (const [name, client] of Object.entries(clients)) {
    const result = await unary(client);
    assert.equal(result.error?.code, grpc.status.INTERNAL, name);
    assert.match(result.error.details, /DPoP-bound.*per-RPC DPoP proofs are not supported yet/, name);
    assert.ok(!result.error.details.includes(token.accessToken), name);
    assert.equal(result.replies.length, 0, `${name}: nothing reached the server`);
  }
});
