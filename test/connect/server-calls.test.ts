import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Code, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createConnectAuthInterceptor, type ConnectServerAuthOptions } from '../../src/connect/index.js';
import type { TokenManagerOptions } from '../../src/index.js';
import { createManager } from '../helpers/token-fixtures.js';
import { callKinds, echoClient, protocols, testCertificates, type CallKind, type Protocol } from './connect-fixture.js';
import { EchoService } from './echo-service.js';
import { startTokenServerScene } from './server-fixture.js';

const kinds = Object.keys(callKinds) as CallKind[];

/**
 * A MockTokenServer, the Connect auth server trusting it (the echo policy: ClientStream needs
 * orders.write, the rest orders.read, unless `options` say otherwise), and an Echo client on
 * `protocol` whose SDK interceptor attaches tokens with `scopes`.
 */
async function scene(
  t: TestContext,
  protocol: Protocol,
  scopes: string[],
  options: Partial<ConnectServerAuthOptions> = {},
  tokenOptions: TokenManagerOptions = {},
) {
  const { tokenServer, server } = await startTokenServerScene(t, options);
  const tokens = createManager(t, tokenServer, { scopes, ...tokenOptions });
  const client = await echoClient(protocol, server.baseUrl, [createConnectAuthInterceptor(tokens)]);
  return { tokenServer, server, tokens, client };
}

/** The `grpc-oauth2-*` values of an error's metadata (trailers, or Connect's headers / end-of-stream metadata). */
function oauth2Metadata(error: { metadata: Headers } | undefined): Record<string, string> {
  const found: Record<string, string> = {};
  error?.metadata.forEach((value, key) => {
    if (key.startsWith('grpc-oauth2-')) found[key] = value;
  });
  return found;
}

for (const protocol of protocols) {
  describe(`Connect server interceptor, ${protocol} protocol`, () => {
    it('allows every call kind whose token has the scope, and each handler reads the frozen verified claims', async (t) => {
      const { server, client, tokenServer } = await scene(t, protocol, ['orders.read', 'orders.write']);
      for (const kind of kinds) {
        const { error, replies } = await callKinds[kind](client);
        assert.equal(error, undefined, `${kind}: ${error?.message}`);
        assert.match(replies[0]?.text ?? '', /^orders-svc:/, kind);
      }
      assert.deepEqual(
        server.sightings.map(({ method }) => method),
        ['/test.v1.Echo/Unary', '/test.v1.Echo/ClientStream', '/test.v1.Echo/ServerStream', '/test.v1.Echo/Bidi'],
      );
      for (const { claims } of server.sightings) {
        assert.equal(claims?.iss, tokenServer.issuer);
        assert.ok(Object.isFrozen(claims) && Object.isFrozen(claims.aud ?? {}), 'frozen all the way down');
      }
      assert.deepEqual(
        server.decisions.map(({ allowed, reason, code, subject }) => ({ allowed, reason, code, subject })),
        kinds.map(() => ({ allowed: true, reason: 'granted', code: 0, subject: 'orders-svc' })),
      );
    });

    for (const kind of kinds) {
      it(`refuses a ${kind} call without a token: Unauthenticated missing_token, and the handler never runs`, async (t) => {
        const { server } = await scene(t, protocol, ['orders.read']);
        const bare = await echoClient(protocol, server.baseUrl, []);
        const { error } = await callKinds[kind](bare);
        assert.equal(error?.code, Code.Unauthenticated);
        assert.equal(error?.rawMessage, 'no bearer token: the call has no authorization metadata');
        assert.deepEqual(oauth2Metadata(error), { 'grpc-oauth2-reason': 'missing_token' });
        assert.deepEqual(server.sightings, []);
      });

      it(`refuses a ${kind} call whose token lacks the scope: PermissionDenied with the wanted scope in its metadata`, async (t) => {
        const { server, client, tokenServer } = await scene(t, protocol, ['inventory.read']);
        const { error } = await callKinds[kind](client);
        const wanted = kind === 'clientStream' ? 'orders.write' : 'orders.read';
        assert.equal(error?.code, Code.PermissionDenied);
        assert.equal(error?.rawMessage, `missing scope ${wanted}`);
        assert.deepEqual(oauth2Metadata(error), {
          'grpc-oauth2-reason': 'missing_scope',
          'grpc-oauth2-scope': wanted,
          'grpc-oauth2-scope-rule': 'all_of',
        });
        assert.deepEqual(server.sightings, []);
        assert.equal(tokenServer.tokenRequestCount, 1, 'a permission refusal neither invalidates nor replays');
      });
    }

    it('names every scope of an anyOf rule, with the rule any_of', async (t) => {
      const methods = { '/test.v1.Echo/Unary': { anyOf: ['orders.write', 'orders.admin'] } };
      const { client } = await scene(t, protocol, ['orders.read'], { methods });
      const { error } = await callKinds.unary(client);
      assert.equal(error?.rawMessage, 'missing scope: needs one of orders.admin, orders.write');
      assert.deepEqual(oauth2Metadata(error), {
        'grpc-oauth2-reason': 'missing_scope',
        'grpc-oauth2-scope': 'orders.admin orders.write',
        'grpc-oauth2-scope-rule': 'any_of',
      });
    });

    it('refuses a method the policy does not name: PermissionDenied method_not_in_policy', async (t) => {
      const { client, server } = await scene(t, protocol, ['orders.read'], {
        methods: { '/test.v1.Echo/Unary': ['orders.read'] },
      });
      assert.equal((await callKinds.unary(client)).error, undefined);
      const { error } = await callKinds.bidi(client);
      assert.equal(error?.code, Code.PermissionDenied);
      assert.equal(error?.rawMessage, "method /test.v1.Echo/Bidi is not in the server's policy");
      assert.deepEqual(oauth2Metadata(error), { 'grpc-oauth2-reason': 'method_not_in_policy' });
      assert.equal(server.sightings.length, 1);
    });

    it('lets a public method through with or without a token, and its handler gets no claims', async (t) => {
      const { client, server } = await scene(t, protocol, ['orders.read'], {
        publicMethods: ['/test.v1.Echo/Unary'],
      });
      const bare = await echoClient(protocol, server.baseUrl, []);
      assert.equal((await callKinds.unary(bare)).replies[0]?.text, '-:hello');
      assert.equal((await callKinds.unary(client)).replies[0]?.text, '-:hello');
      assert.deepEqual(
        server.sightings.map(({ claims }) => claims),
        [undefined, undefined],
      );
      assert.deepEqual(
        server.decisions.map(({ reason, subject }) => ({ reason, subject })),
        [
          { reason: 'public', subject: undefined },
          { reason: 'public', subject: undefined },
        ],
      );
    });

    it('asks authorize with the claims, the method and the request headers, and follows its answer', async (t) => {
      const asked: string[] = [];
      const { client } = await scene(t, protocol, ['orders.read'], {
        authorize: ({ claims, method, headers }) => {
          asked.push(`${String(claims.sub)} ${method} ${headers.get('x-tenant') ?? '(none)'}`);
          return headers.get('x-tenant') === 'acme';
        },
      });
      assert.equal((await callKinds.unary(client, { headers: { 'x-tenant': 'acme' } })).error, undefined);
      const { error } = await callKinds.unary(client, { headers: { 'x-tenant': 'globex' } });
      assert.equal(error?.code, Code.PermissionDenied);
      assert.equal(error?.rawMessage, "denied by the server's authorize rule");
      assert.deepEqual(oauth2Metadata(error), { 'grpc-oauth2-reason': 'authorize_denied' });
      assert.deepEqual(asked, ['orders-svc /test.v1.Echo/Unary acme', 'orders-svc /test.v1.Echo/Unary globex']);
    });

    it('refuses Internal authorize_failed when authorize throws, rejects or answers neither true nor false, without its words', async (t) => {
      const answers: (() => unknown)[] = [
        () => {
          throw new Error('tenant table at db.internal:5432 unreachable');
        },
        () => Promise.reject(new Error('tenant table at db.internal:5432 unreachable')),
        () => 'yes',
      ];
      let next = 0;
      const { client, server } = await scene(t, protocol, ['orders.read'], {
        authorize: () => answers[next++]!() as boolean,
      });
      for (const _ of answers) {
        const { error } = await callKinds.unary(client);
        assert.equal(error?.code, Code.Internal);
        assert.equal(error?.rawMessage, "the server's authorize rule failed");
        assert.deepEqual(oauth2Metadata(error), { 'grpc-oauth2-reason': 'authorize_failed' });
      }
      assert.deepEqual(server.sightings, []);
      assert.match(server.decisions[0]?.internalDetails ?? '', /threw Error/);
      assert.ok(!server.decisions.some((decision) => decision.internalDetails.includes('db.internal')));
    });

    it("refuses a token for another audience, and the SDK's Connect client neither invalidates it nor replays", async (t) => {
      const { client, server, tokenServer } = await scene(t, protocol, ['orders.read'], {
        audience: 'https://billing.example.test',
      });
      const { error } = await callKinds.unary(client);
      assert.equal(error?.code, Code.Unauthenticated);
      assert.deepEqual(oauth2Metadata(error), { 'grpc-oauth2-reason': 'wrong_audience' });
      assert.equal(server.decisions.length, 1, 'sent once: the client read the reason');
      assert.equal(tokenServer.tokenRequestCount, 1);
    });
  });
}

describe('Connect server interceptor over HTTP/1.1 (as behind an Express or Fastify adapter)', () => {
  it('allows a call with the scope and refuses one without, the reason and scope in the error metadata', async (t) => {
    const { server, tokenServer } = await startTokenServerScene(t, {
      methods: { '/test.v1.Echo/Unary': ['orders.write'], '/test.v1.Echo/*': ['orders.read'] },
    });
    const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
    const transport = createConnectTransport({
      baseUrl: server.baseUrl,
      httpVersion: '1.1',
      nodeOptions: { ca: (await testCertificates()).caCert },
      interceptors: [createConnectAuthInterceptor(tokens)],
    });
    const client = createClient(EchoService, transport);
    assert.deepEqual(
      (await callKinds.serverStream(client)).replies.map(({ text }) => text),
      ['orders-svc:hello-1', 'orders-svc:hello-2'],
    );
    const { error } = await callKinds.unary(client);
    assert.equal(error?.code, Code.PermissionDenied);
    assert.deepEqual(oauth2Metadata(error), {
      'grpc-oauth2-reason': 'missing_scope',
      'grpc-oauth2-scope': 'orders.write',
      'grpc-oauth2-scope-rule': 'all_of',
    });
  });
});
