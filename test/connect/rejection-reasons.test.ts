// The Connect interceptor answers the real ./server's refusals as the grpc-js one does: a fresh token
// only for reasons a new token can fix, read from `grpc-oauth2-reason`.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Code, createClient } from '@connectrpc/connect';
import { createConnectAuthInterceptor } from '../../src/connect/index.js';
import type { AuthDecision, ServerAuthOptions } from '../../src/server/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { startClientScene } from '../server/fixture.js';
import { callKinds, transportFor } from './connect-fixture.js';
import { EchoService } from './echo-service.js';

/**
 * A MockTokenServer, a TokenManager on it, the real ./server interceptor on a grpc-js server (whose
 * decisions are kept), and a Connect client on the gRPC protocol through the SDK's interceptor.
 */
async function scene(t: TestContext, server: Partial<ServerAuthOptions>) {
  const decisions: AuthDecision[] = [];
  const { tokenServer, tokens, auth } = await startClientScene(t, {
    onDecision: (decision) => decisions.push(decision),
    ...server,
  });
  // The grpc-js test service speaks JSON messages, and its replies carry a field this schema does not know.
  const transport = await transportFor('grpc', `https://${auth.address}`, [createConnectAuthInterceptor(tokens)], {
    caCert: auth.caCert,
    useBinaryFormat: false,
    jsonOptions: { ignoreUnknownFields: true },
  });
  return { tokenServer, decisions, client: createClient(EchoService, transport) };
}

test('a unary call refused wrong_audience is sent once, and its token kept: a new one would have the same audience', async (t) => {
  const { tokenServer, decisions, client } = await scene(t, { audience: 'https://orders.example.test' });
  const first = await callKinds.unary(client);
  assert.equal(first.error?.code, Code.Unauthenticated);
  assert.equal(first.error.metadata.get('grpc-oauth2-reason'), 'wrong_audience');
  assert.deepEqual(
    decisions.map((decision) => decision.reason),
    ['wrong_audience'],
  );
  await callKinds.serverStream(client);
  assert.equal(decisions.length, 2);
  assert.equal(tokenServer.tokenRequestCount, 1);
});

test("a unary call refused token_expired (the server's clock is two hours ahead) is made once more with a fresh token", async (t) => {
  const { tokenServer, decisions, client } = await scene(t, { clock: new ManualClock(Date.now() + 2 * 3_600_000) });
  const { error } = await callKinds.unary(client);
  assert.equal(error?.code, Code.Unauthenticated);
  assert.deepEqual(
    decisions.map((decision) => decision.reason),
    ['token_expired', 'token_expired'],
  );
  assert.equal(tokenServer.tokenRequestCount, 2);
});
