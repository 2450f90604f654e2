import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createChannelCredentials } from '../../src/index.js';
import type { AuthDecision, ServerAuthOptions } from '../../src/server/index.js';
import { callTypes, unary, type CallType } from '../helpers/grpc-fixture.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { echoPolicy, healthCheckPath, reasonOf, startAuthServer } from './fixture.js';

const audience = 'https://orders.example.test';

/** A MockTokenServer, the auth server trusting it, and a client through the SDK's channel credentials with `scopes`. */
async function scene(t: TestContext, scopes: string[], options: Partial<ServerAuthOptions> = {}) {
  const tokenServer = await startTokenServer(t, { audience });
  const server = await startAuthServer(t, {
    issuer: tokenServer.issuer,
    audience,
    jwksUri: tokenServer.jwksUri,
    allowInsecureRequests: true,
    methods: echoPolicy,
    ...options,
  });
  const tokens = createManager(t, tokenServer, { scopes });
  return {
    tokenServer,
    server,
    tokens,
    client: server.client(createChannelCredentials(server.channelCredentials(), tokens)),
  };
}

const kinds = Object.keys(callTypes) as CallType[];

describe('server interceptor with the SDK client', () => {
  for (const kind of kinds) {
    it(`allows a ${kind} call whose token has the method's scope, and its handler sees the claims`, async (t) => {
      const { client, server } = await scene(t, ['orders.read', 'orders.write']);
      const { error, replies } = await callTypes[kind](client);
      assert.equal(error, undefined);
      assert.ok(replies.length > 0);
      assert.ok(server.sightings.length > 0);
      for (const sighting of server.sightings)
        assert.equal(sighting.subject, 'orders-svc', `${sighting.method} at ${sighting.where}`);
    });

    it(`refuses a ${kind} call whose token lacks the method's scope, naming it, and never runs the handler`, async (t) => {
      const { client, server } = await scene(t, ['inventory.read']);
      const { error } = await callTypes[kind](client);
      assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
      const wanted = kind === 'clientStream' ? 'orders.write' : 'orders.read';
      assert.equal(error?.details, `missing scope ${wanted}`);
      assert.equal(reasonOf(error), 'missing_scope');
      assert.deepEqual(error?.metadata.get('grpc-oauth2-scope'), [wanted]);
      assert.deepEqual(server.sightings, []);
    });

    it(`refuses a ${kind} call without a token with UNAUTHENTICATED, and never runs the handler`, async (t) => {
      const { server } = await scene(t, ['orders.read']);
      const { error } = await callTypes[kind](server.client());
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
      assert.equal(reasonOf(error), 'missing_token');
      assert.deepEqual(server.sightings, []);
    });
  }

  it('lets the health check through without a token, with no claims for its handler', async (t) => {
    const { server } = await scene(t, ['orders.read']);
    const reply = await new Promise<{ error: grpc.ServiceError | null; text?: string }>((resolve) =>
      server.client().makeUnaryRequest(
        healthCheckPath,
        (value: unknown) => Buffer.from(JSON.stringify(value)),
        (bytes: Buffer) => JSON.parse(bytes.toString()) as { text: string },
        { text: 'x' },
        (error, value) => resolve({ error, text: value?.text }),
      ),
    );
    assert.equal(reply.error, null);
    assert.equal(reply.text, 'SERVING');
    assert.deepEqual(server.sightings, [{ method: healthCheckPath, where: 'entry', subject: undefined }]);
  });

  it('works through createAuthInterceptor with per-method scopes as well as channel credentials', async (t) => {
    const { server, tokens } = await scene(t, ['orders.read']);
    const tls = server.channelCredentials();
    const client = server.client(tls, {
      interceptors: [
        createAuthInterceptor(tokens, {
          channelCredentials: tls,
          scopesFor: (method) => (method.endsWith('/ClientStream') ? ['orders.write'] : ['orders.read']),
        }),
      ],
    });
    for (const kind of kinds) assert.equal((await callTypes[kind](client)).error, undefined, kind);
  });

  for (const discovery of ['oauth', 'oidc'] as const) {
    it(`finds the keys through the issuer's ${discovery === 'oauth' ? 'RFC 8414' : 'OpenID Connect'} discovery document when jwksUri is omitted`, async (t) => {
      const tokenServer = await startTokenServer(t, { audience, discovery });
      const server = await startAuthServer(t, {
        issuer: tokenServer.issuer,
        audience,
        allowInsecureRequests: true,
        methods: echoPolicy,
      });
      const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
      const { error } = await unary(server.client(createChannelCredentials(server.channelCredentials(), tokens)));
      assert.equal(error, undefined);
    });
  }

  it('ends the call UNAVAILABLE when the issuer has no discovery document', async (t) => {
    const tokenServer = await startTokenServer(t, { audience, discovery: 'none' });
    const decisions: AuthDecision[] = [];
    const server = await startAuthServer(t, {
      issuer: tokenServer.issuer,
      audience,
      allowInsecureRequests: true,
      methods: echoPolicy,
      onDecision: (decision) => decisions.push(decision),
    });
    const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
    const { error } = await unary(server.client(createChannelCredentials(server.channelCredentials(), tokens)));
    assert.equal(error?.code, grpc.status.UNAVAILABLE);
    assert.equal(reasonOf(error), 'keys_unavailable');
    assert.match(
      decisions[0]?.internalDetails ?? '',
      /no usable discovery document: .* answered HTTP 404; .* answered HTTP 404$/,
    );
  });

  it('refuses a token for another audience, and the SDK interceptor neither invalidates it nor replays: a new one would have the same audience', async (t) => {
    const { server, tokens, tokenServer } = await scene(t, ['orders.read'], {
      audience: 'https://billing.example.test',
    });
    const tls = server.channelCredentials();
    const client = server.client(tls, { interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls })] });
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(reasonOf(error), 'wrong_audience');
    assert.equal(error?.details, 'bearer token audience is not this server');
    assert.equal(tokenServer.issuedTokenCount, 1);
  });
});
