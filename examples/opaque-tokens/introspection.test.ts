import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenManager } from 'grpc-oauth2-credentials';
import { ManualClock, MockTokenServer } from 'grpc-oauth2-credentials/testing';

/** What an opaque-token resource server asks: RFC 7662 introspection, as orders-api (client_secret_basic). */
async function introspect(server: MockTokenServer, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(server.introspectionEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('orders-api:api-secret').toString('base64')}` },
    body: new URLSearchParams({ token }),
  });
  if (!res.ok) throw new Error(`introspection answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

test('an opaque token is active until it is revoked or expires', async (t) => {
  const clock = new ManualClock();
  const server = await MockTokenServer.start({ accessTokenFormat: 'opaque', clock, tokenLifetimeSec: 600 });
  t.after(() => server.close());
  server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret', allowedScopes: ['orders.read'] });
  server.addClient({ clientId: 'orders-api', clientSecret: 'api-secret' }); // the resource server

  const tokens = new TokenManager({
    issuer: server.issuer,
    clientId: 'orders-svc',
    clientSecret: 'test-secret',
    scopes: ['orders.read'],
    allowInsecureRequests: true, // the mock speaks http on loopback
  });
  t.after(() => tokens.close());
  const { accessToken } = await tokens.getToken(); // not a JWT: only the server can read it

  const answer = await introspect(server, accessToken);
  assert.equal(answer.active, true);
  assert.equal(answer.scope, 'orders.read');
  assert.equal(answer.client_id, 'orders-svc');

  await server.revokeToken(accessToken);
  assert.deepEqual(await introspect(server, accessToken), { active: false });

  tokens.invalidate(accessToken); // as a client does when the server refuses its token
  const { accessToken: renewed } = await tokens.getToken();
  assert.equal((await introspect(server, renewed)).active, true);
  await clock.advance(600_000); // the server's clock reaches the token's exp
  assert.deepEqual(await introspect(server, renewed), { active: false });
  assert.equal(server.introspectionRequestCount, 4);
});

test('the introspection endpoint can be down or answer garbage', async (t) => {
  const server = await MockTokenServer.start({ accessTokenFormat: 'opaque' });
  t.after(() => server.close());
  server.addClient({ clientId: 'orders-api', clientSecret: 'api-secret' });

  const introspection = { endpoint: 'introspection' } as const;
  server.failNext(1, { type: 'error', status: 503 }, introspection);
  server.failNext(1, { type: 'body', body: '<html>gateway</html>' }, introspection);
  await assert.rejects(introspect(server, 'any-token'), /introspection answered 503/);
  await assert.rejects(introspect(server, 'any-token'), SyntaxError);
  assert.deepEqual(await introspect(server, 'any-token'), { active: false }); // served normally again
});
