import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as client from 'openid-client';
import { MockTokenServer } from 'grpc-oauth2-credentials/testing';

/** What a DPoP client does (RFC 9449): discovery, then the token endpoint with a proof of its key. */
async function discover(server: MockTokenServer): Promise<client.Configuration> {
  return client.discovery(new URL(server.issuer), 'orders-svc', undefined, client.ClientSecretBasic('test-secret'), {
    execute: [client.allowInsecureRequests], // the mock speaks plain http on loopback
  });
}

test('a DPoP-bound token, after the server asks for its nonce', async (t) => {
  const server = await MockTokenServer.start({ dpopNonce: true }); // proofs must carry the server's nonce
  t.after(() => server.close());
  server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret', allowedScopes: ['orders.read'] });

  const config = await discover(server);
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const DPoP = client.getDPoPHandle(config, keyPair);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders.read' }, { DPoP });
  assert.equal(tokens.token_type, 'dpop');

  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
  const claims = await server.verifyAccessToken(tokens.access_token);
  assert.deepEqual(claims.cnf, { jkt }); // RFC 9449 §6.1: bound to the client's key
  assert.equal(server.tokenRequestCount, 2); // 400 use_dpop_nonce, then the retry with the nonce
  assert.equal(server.requests.at(-1)?.dpopJkt, jkt); // the log has the key's thumbprint, never the proof
});

test('a client registered for DPoP is refused a token without a proof', async (t) => {
  const server = await MockTokenServer.start();
  t.after(() => server.close());
  server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret', dpopBoundAccessTokens: true });

  await assert.rejects(client.clientCredentialsGrant(await discover(server), { scope: 'orders.read' }), {
    error: 'invalid_dpop_proof',
  });
});
