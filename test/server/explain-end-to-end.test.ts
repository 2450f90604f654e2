import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, explainAuthFailure } from '../../src/index.js';
import { methodPaths, unary } from '../helpers/grpc-fixture.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { startAuthServer } from './fixture.js';

it('explains a scope the real ./server interceptor found missing, from its trailers', async (t) => {
  const tokenServer = await startTokenServer(t);
  const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
  const auth = await startAuthServer(t, {
    issuer: tokenServer.issuer,
    audience: 'https://api.example.test',
    jwksUri: tokenServer.jwksUri,
    allowInsecureRequests: true,
    methods: { [methodPaths.unary]: ['orders.write'], '/test.v1.Echo/*': ['orders.read'] },
  });
  const tls = auth.channelCredentials();
  const client = auth.client(tls, { interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls })] });
  const { error } = await unary(client);
  assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
  const explanation = explainAuthFailure(error);
  assert.equal(explanation?.hint, 'the token lacked scope orders.write; it was requested with orders.read');
  assert.equal(explanation.serverReason, 'missing_scope');
  assert.equal(auth.sightings.length, 0, 'the handler never ran');
});
