import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code } from '@connectrpc/connect';
import { createConnectAuthInterceptor } from '../../src/connect/index.js';
import { collectWarnings, warningsEmitted } from '../helpers/grpc-fixture.js';
import { callKinds, echoClient, protocols, startConnectScene, startConnectServer } from './connect-fixture.js';

for (const protocol of protocols) {
  test(`an http: base URL over the ${protocol} protocol is refused: the plaintext server sees nothing and no token is fetched`, async (t) => {
    const scene = await startConnectScene(t);
    const plaintext = await startConnectServer(t, { tls: false });
    const client = await echoClient(protocol, plaintext.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

    for (const [kind, call] of Object.entries(callKinds)) {
      const result = await call(client);
      assert.equal(result.error?.code, Code.Unauthenticated, kind);
      assert.match(result.error.rawMessage, /refusing to send an OAuth2 access token to an http: URL/, kind);
      assert.match(result.error.rawMessage, /allowInsecureChannel: true/, kind);
    }
    assert.equal(plaintext.received.length, 0);
    assert.equal(scene.tokenServer.tokenRequestCount, 0);
  });
}

test('a caller-set authorization does not get an http: call past the check', async (t) => {
  const scene = await startConnectScene(t);
  const plaintext = await startConnectServer(t, { tls: false });
  const client = await echoClient('connect', plaintext.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

  const result = await callKinds.unary(client, { headers: { authorization: 'Bearer callers-own' } });

  assert.equal(result.error?.code, Code.Unauthenticated);
  assert.equal(plaintext.received.length, 0);
});

test('allowInsecureChannel: true sends the token to an http: URL and warns once per process', async (t) => {
  const warnings = collectWarnings(t, 'InsecureChannelWarning');
  const scene = await startConnectScene(t);
  const plaintext = await startConnectServer(t, { tls: false });
  const client = await echoClient('grpc', plaintext.baseUrl, [
    createConnectAuthInterceptor(scene.tokens, { allowInsecureChannel: true }),
  ]);

  const first = await callKinds.unary(client);
  const second = await callKinds.serverStream(client);
  await warningsEmitted();

  assert.equal(first.error, undefined);
  assert.equal(second.error, undefined);
  assert.equal(plaintext.received.length, 2);
  assert.match(plaintext.received[0]?.authorization[0] ?? '', /^Bearer /);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /PLAINTEXT/);
});
