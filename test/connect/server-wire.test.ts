import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { fromBinary, toBinary, create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, explainAuthFailure } from '../../src/index.js';
import { createConnectAuthInterceptor, type ConnectServerAuthOptions } from '../../src/connect/index.js';
import { createManager } from '../helpers/token-fixtures.js';
import { callKinds, echoClient, protocols, testCertificates } from './connect-fixture.js';
import { EchoReplySchema, EchoRequestSchema, type EchoReply } from './echo-service.js';
import { connectEndStream, rawCall, startKeyServerScene, startTokenServerScene } from './server-fixture.js';

/** Unary needs orders.write, every other Echo method orders.read. */
const methods = { '/test.v1.Echo/Unary': ['orders.write'], '/test.v1.Echo/*': ['orders.read'] };

const keyScene = (t: TestContext, options: Partial<ConnectServerAuthOptions> = {}) =>
  startKeyServerScene(t, { methods, ...options });

describe('refusals on the wire (a plain node:http2 client)', () => {
  it('gRPC: the status, the reason and the wanted scopes are trailers', async (t) => {
    const { keys, server } = await keyScene(t);
    const token = await keys.sign({ scope: 'orders.read' });
    const answer = await rawCall(t, server.baseUrl, 'grpc', '/test.v1.Echo/Unary', {
      authorization: `Bearer ${token}`,
    });
    // A refusal before any message is a trailers-only answer: HTTP/2 sends it as the one HEADERS frame.
    const trailers = { ...answer.headers, ...answer.trailers };
    assert.equal(trailers['grpc-status'], '7');
    assert.equal(decodeURIComponent(String(trailers['grpc-message'])), 'missing scope orders.write');
    assert.equal(trailers['grpc-oauth2-reason'], 'missing_scope');
    assert.equal(trailers['grpc-oauth2-scope'], 'orders.write');
    assert.equal(trailers['grpc-oauth2-scope-rule'], 'all_of');
    assert.equal(answer.body.length, 0);
    assert.ok(!JSON.stringify(answer).includes(token));
  });

  it('Connect unary: HTTP 403, the reason and the wanted scopes are response headers', async (t) => {
    const { keys, server } = await keyScene(t);
    const token = await keys.sign({ scope: 'orders.read' });
    const answer = await rawCall(t, server.baseUrl, 'connect-unary', '/test.v1.Echo/Unary', {
      authorization: `Bearer ${token}`,
    });
    assert.equal(answer.headers[':status'], 403);
    assert.equal(answer.headers['grpc-oauth2-reason'], 'missing_scope');
    assert.equal(answer.headers['grpc-oauth2-scope'], 'orders.write');
    assert.equal(answer.headers['grpc-oauth2-scope-rule'], 'all_of');
    assert.deepEqual(JSON.parse(answer.body.toString('utf8')), {
      code: 'permission_denied',
      message: 'missing scope orders.write',
    });
    assert.ok(!JSON.stringify(answer).includes(token));
  });

  it('Connect streaming: the reason is in the end-of-stream metadata', async (t) => {
    const { keys, server } = await keyScene(t, { methods: { '/test.v1.Echo/ServerStream': ['orders.write'] } });
    const token = await keys.sign({ scope: 'orders.read' });
    const answer = await rawCall(t, server.baseUrl, 'connect-stream', '/test.v1.Echo/ServerStream', {
      authorization: `Bearer ${token}`,
    });
    assert.equal(answer.headers[':status'], 200);
    assert.deepEqual(connectEndStream(answer.body), {
      error: { code: 'permission_denied', message: 'missing scope orders.write' },
      metadata: {
        'grpc-oauth2-reason': ['missing_scope'],
        'grpc-oauth2-scope': ['orders.write'],
        'grpc-oauth2-scope-rule': ['all_of'],
      },
    });
  });

  it('does not read a Connect streaming request message before the token is checked', async (t) => {
    const { server } = await keyScene(t);
    // No authorization and a body that is no message at all: the refusal comes first.
    const answer = await rawCall(t, server.baseUrl, 'connect-stream', '/test.v1.Echo/Bidi', {}, Buffer.from('junk!'));
    assert.equal(connectEndStream(answer.body).metadata?.['grpc-oauth2-reason']?.[0], 'missing_token');
  });

  it('on a unary call, Connect parses the request message before any interceptor runs (a documented limit)', async (t) => {
    const { server } = await keyScene(t);
    const answer = await rawCall(t, server.baseUrl, 'connect-unary', '/test.v1.Echo/Unary', {}, Buffer.from('junk!'));
    // Connect's own parse error (no token was even looked at), not Unauthenticated missing_token.
    const { message } = JSON.parse(answer.body.toString('utf8')) as { message: string };
    assert.match(message, /^parse binary: /);
    assert.equal(answer.headers['grpc-oauth2-reason'], undefined);
    assert.deepEqual(server.decisions, [], 'the interceptor never ran');
  });
});

describe("this SDK's clients read what the Connect server sends", () => {
  for (const protocol of protocols) {
    it(`the Connect client (${protocol}) reads token_expired, a reason a new token may fix: it invalidates the token and replays once`, async (t) => {
      const { tokenServer, server } = await startTokenServerScene(t, {
        methods,
        // The server's clock two hours ahead: every token the client gets looks expired to it.
        clock: { now: () => Date.now() + 7_200_000, setTimeout: () => ({ clear: () => undefined }) },
      });
      const tokens = createManager(t, tokenServer, { scopes: ['orders.write'] });
      const client = await echoClient(protocol, server.baseUrl, [createConnectAuthInterceptor(tokens)]);
      const { error } = await callKinds.unary(client);
      assert.equal(error?.metadata.get('grpc-oauth2-reason'), 'token_expired');
      assert.equal(
        server.decisions.length,
        2,
        'token_expired: the client invalidated the token and sent the call again',
      );
      assert.equal(tokenServer.tokenRequestCount, 2);
    });
  }

  it('explainAuthFailure on a grpc-js client (through createAuthInterceptor) explains the missing scope', async (t) => {
    const { tokenServer, server } = await startTokenServerScene(t, { methods });
    const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
    const certs = await testCertificates();
    const tls = grpc.credentials.createSsl(Buffer.from(certs.caCert));
    const client = new grpc.Client(new URL(server.baseUrl).host, tls, {
      interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls })],
      'grpc.ssl_target_name_override': 'localhost', // the test certificate names localhost too
    });
    t.after(() => client.close());
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        '/test.v1.Echo/Unary',
        (request: { text: string }) => Buffer.from(toBinary(EchoRequestSchema, create(EchoRequestSchema, request))),
        (bytes: Buffer): EchoReply => fromBinary(EchoReplySchema, bytes),
        { text: 'hi' },
        (err) => resolve(err),
      ),
    );
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    const explanation = explainAuthFailure(error);
    assert.equal(explanation?.serverReason, 'missing_scope');
    assert.equal(explanation.hint, 'the token lacked scope orders.write; it was requested with orders.read');
    assert.deepEqual(server.sightings, []);
  });
});

describe('leak scan', () => {
  it('no refusal puts the token in a message, metadata, the wire, a decision or util.inspect', async (t) => {
    const { keys, server } = await keyScene(t, {
      authorize: ({ claims }) => {
        if (claims.sub === 'thrower') throw new Error(`cannot decide for ${JSON.stringify(claims)}`);
        return claims.sub !== 'denied';
      },
    });
    const nowSec = Math.floor(Date.now() / 1000);
    const tokens = [
      await keys.sign({ exp: nowSec - 120 }),
      await keys.sign({ aud: 'https://billing.example.test' }),
      await keys.sign({ scope: 'inventory.read' }),
      await keys.sign({ sub: 'denied', scope: 'orders.write' }),
      await keys.sign({ sub: 'thrower', scope: 'orders.write' }),
      `${(await keys.sign()).slice(0, -4)}AAAA`,
    ];
    const seen: string[] = [];
    for (const token of tokens) {
      const authorization = `Bearer ${token}`;
      for (const protocol of protocols) {
        const client = await echoClient(protocol, server.baseUrl, []);
        for (const kind of ['unary', 'bidi'] as const) {
          const { error } = await callKinds[kind](client, { headers: { authorization } });
          assert.ok(error !== undefined);
          seen.push(error.message, inspect(error, { depth: 5 }), JSON.stringify([...error.metadata]));
        }
      }
      for (const [wire, path] of [
        ['grpc', '/test.v1.Echo/Unary'],
        ['connect-unary', '/test.v1.Echo/Unary'],
        ['connect-stream', '/test.v1.Echo/ServerStream'],
      ] as const)
        seen.push(JSON.stringify(await rawCall(t, server.baseUrl, wire, path, { authorization })));
    }
    seen.push(JSON.stringify(server.decisions), inspect(server.decisions, { depth: 5 }));
    assert.equal(server.decisions.length, tokens.length * 7);
    for (const token of tokens) {
      const [, payload, signature] = token.split('.');
      for (const text of seen) {
        assert.ok(!text.includes(token), 'the token');
        assert.ok(!text.includes(payload!), 'its payload');
        assert.ok(!text.includes(signature!), 'its signature');
      }
    }
  });
});
