// DPoP proofs (RFC 9449) on the Connect server interceptor: the htu a proof must name is the request
// URL's authority and the method's path, over both protocols. The proof checks themselves are the
// grpc-js server's (test/server/dpop.test.ts); this pins what the Connect side hands them.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { Code } from '@connectrpc/connect';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { methodPaths } from '../helpers/grpc-fixture.js';
import { callKinds, echoClient, protocols } from './connect-fixture.js';
import { startKeyServerScene } from './server-fixture.js';

for (const protocol of protocols) {
  describe(`Connect server interceptor and DPoP proofs, ${protocol} protocol`, () => {
    it("takes a proof for the request's authority and method, refuses one for another authority and a replay", async (t) => {
      const { keys, server } = await startKeyServerScene(t, { dpop: 'required' });
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const token = await keys.sign({ cnf: { jkt: await calculateJwkThumbprint(jwk, 'sha256') } });
      const ath = createHash('sha256').update(token).digest('base64url');
      const proof = (htu: string): Promise<string> =>
        new SignJWT({ htm: 'POST', htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
          .sign(privateKey);
      const client = await echoClient(protocol, server.baseUrl, []);
      const call = (dpop: string) => callKinds.unary(client, { headers: { authorization: `DPoP ${token}`, dpop } });

      const good = await proof(`${server.baseUrl}${methodPaths.unary}`);
      assert.equal((await call(good)).error, undefined);
      const replay = await call(good);
      assert.equal(replay.error?.code, Code.Unauthenticated);
      assert.equal(replay.error?.metadata.get('grpc-oauth2-reason'), 'dpop_replayed');
      const elsewhere = await call(await proof(`https://orders.example.test${methodPaths.unary}`));
      assert.equal(elsewhere.error?.metadata.get('grpc-oauth2-reason'), 'dpop_invalid');
      const bearer = await callKinds.unary(client, { headers: { authorization: `Bearer ${await keys.sign()}` } });
      assert.equal(bearer.error?.metadata.get('grpc-oauth2-reason'), 'token_not_bound');
    });
  });
}
