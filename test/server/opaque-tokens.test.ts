// ./server with opaque tokens from the testing kit's MockTokenServer: a TokenManager's opaque token on a
// real TLS call, introspected once, revoked, and the mock's introspection faults seen as UNAVAILABLE.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createChannelCredentials } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { unary } from '../helpers/grpc-fixture.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { bearer, reasonOf, startAuthServer } from './fixture.js';

const resourceServer = { clientId: 'orders-api', clientSecret: 'orders-api-secret' };

async function scene(t: TestContext) {
  const clock = new ManualClock();
  const tokenServer = await startTokenServer(t, { accessTokenFormat: 'opaque' });
  tokenServer.addClient(resourceServer);
  const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
  const auth = await startAuthServer(t, {
    issuers: [{ issuer: tokenServer.issuer, audience: 'https://api.example.test', introspection: resourceServer }],
    allowInsecureRequests: true,
    methods: { '/test.v1.Echo/*': ['orders.read'] },
    clock,
  });
  return { clock, tokenServer, tokens, auth };
}

describe('opaque tokens from MockTokenServer', () => {
  it('accepts a TokenManager opaque token over TLS, one introspection for many calls, and refuses it once revoked', async (t) => {
    const { clock, tokenServer, tokens, auth } = await scene(t);
    await auth.interceptor.ready();
    const client = auth.client(createChannelCredentials(auth.channelCredentials(), tokens));
    for (let i = 0; i < 10; i++) assert.equal((await unary(client)).error, undefined);
    assert.equal(tokenServer.introspectionRequestCount, 1);
    assert.equal(auth.sightings[0]?.subject, 'orders-svc');

    const { accessToken } = await tokens.getToken();
    await tokenServer.revokeToken(accessToken);
    await clock.advance(301_000); // past cacheMaxSec (300 s): the answer is asked for again
    const { error } = await unary(auth.client(), { metadata: bearer(accessToken) });
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(reasonOf(error), 'token_inactive');
  });

  it('ends a call UNAVAILABLE when the introspection endpoint fails or answers garbage, and recovers', async (t) => {
    const { tokenServer, tokens, auth } = await scene(t);
    const { accessToken } = await tokens.getToken();
    const call = async () => (await unary(auth.client(), { metadata: bearer(accessToken) })).error;
    const introspection = { endpoint: 'introspection' } as const;
    tokenServer.failNext(1, { type: 'error', status: 503 }, introspection);
    tokenServer.failNext(1, { type: 'body', body: '<html>gateway</html>' }, introspection);
    tokenServer.failNext(1, { type: 'body', body: '[1, 2]' }, introspection);
    for (let i = 0; i < 3; i++) {
      const error = await call();
      assert.equal(error?.code, grpc.status.UNAVAILABLE);
      assert.equal(reasonOf(error), 'introspection_unavailable');
      assert.doesNotMatch(error?.details ?? '', new RegExp(accessToken.slice(0, 12)));
    }
    assert.equal(await call(), undefined);
  });
});
