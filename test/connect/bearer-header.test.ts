import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createConnectAuthInterceptor } from '../../src/connect/index.js';
import { callKinds, echoClient, protocols, startConnectScene } from './connect-fixture.js';

const bearerLine = /^Bearer [\x21-\x7E]+$/;

for (const protocol of protocols) {
  test(`every call kind over the ${protocol} protocol carries exactly one bearer authorization header`, async (t) => {
    const scene = await startConnectScene(t);
    const client = await echoClient(protocol, scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

    for (const [kind, call] of Object.entries(callKinds)) {
      const result = await call(client);
      assert.equal(result.error, undefined, `${kind}: ${result.error?.message}`);
      const seen = scene.server.received.at(-1);
      assert.equal(seen?.authorization.length, 1, kind);
      assert.match(seen.authorization[0] ?? '', bearerLine, kind);
      assert.deepEqual(result.replies[0]?.authorization, seen.authorization, kind);
    }
    assert.equal(scene.server.received.length, 4);
    assert.equal(scene.tokenServer.tokenRequestCount, 1);
  });

  test(`a caller-set authorization header over the ${protocol} protocol is sent alone and no token is fetched`, async (t) => {
    const scene = await startConnectScene(t);
    const client = await echoClient(protocol, scene.server.baseUrl, [createConnectAuthInterceptor(scene.tokens)]);

    for (const [kind, call] of Object.entries(callKinds)) {
      const result = await call(client, { headers: { authorization: 'Bearer callers-own' } });
      assert.equal(result.error, undefined, kind);
      assert.deepEqual(scene.server.received.at(-1)?.authorization, ['Bearer callers-own'], kind);
    }
    assert.equal(scene.tokenServer.tokenRequestCount, 0);
  });
}
