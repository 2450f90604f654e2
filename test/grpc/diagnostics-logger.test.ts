import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AccessToken,
  AuthConfigError,
  createAuthInterceptor,
  createMetadataLogger,
  type MetadataLogFields,
  type TokenProvider,
} from '../../src/index.js';
import { bearerToken, callTypes, startScene, unary, type CallType } from '../helpers/grpc-fixture.js';
import { startPolicyServer } from '../helpers/policy-server.js';
import { clientSecret } from '../helpers/token-fixtures.js';
import { startClientScene } from '../server/fixture.js';

interface Logged {
  readonly line: string;
  readonly fields: MetadataLogFields;
}

const redactedBearer =
  /^Bearer \[redacted: \d+ chars; expires in 3[56]\d\d s \(\d{4}-\d\d-\d\dT[\d:.]+Z\); scopes orders\.read\]$/;

/** Fails unless nothing logged holds the secret, a token the server received, or anything JWT-like. */
function assertNothingSecret(logged: readonly Logged[], tokens: readonly string[]): void {
  const text = JSON.stringify(logged);
  assert.ok(!text.includes(clientSecret), 'no client secret');
  for (const token of tokens) assert.ok(!text.includes(token), 'no token');
  assert.ok(!/eyJ[\w-]+\.eyJ/.test(text), 'nothing JWT-like');
}

/** A test server's way of making TLS clients. */
interface TlsServer {
  channelCredentials(): grpc.ChannelCredentials;
  client(credentials: grpc.ChannelCredentials, options: grpc.ClientOptions): grpc.Client;
}

/** A client of `server` through the auth interceptor, then a metadata logger that keeps what it logs. */
function loggingClient(server: TlsServer, tokens: TokenProvider): { client: grpc.Client; logged: Logged[] } {
  const logged: Logged[] = [];
  const tls = server.channelCredentials();
  const interceptors = [
    createAuthInterceptor(tokens, { channelCredentials: tls }),
    createMetadataLogger({ log: (line, fields) => logged.push({ line, fields }) }),
  ];
  return { logged, client: server.client(tls, { interceptors }) };
}

describe('createMetadataLogger', () => {
  for (const type of Object.keys(callTypes) as CallType[]) {
    it(`logs the method, the metadata with the token redacted and the status of a ${type} call, waiting or cached`, async (t) => {
      const { tokens, grpcServer } = await startScene(t);
      const { client, logged } = loggingClient(grpcServer, tokens);
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'r-1');
      // The first call waits for the token (per-call credentials attach it); the second finds it cached.
      for (let i = 0; i < 2; i++) assert.equal((await callTypes[type](client, { metadata })).error, undefined);

      const method = grpcServer.received[0]?.method ?? '';
      assert.deepEqual(
        logged.map((entry) => entry.fields.event),
        ['metadata', 'status', 'metadata', 'status'],
      );
      for (const { line, fields } of logged.filter((entry) => entry.fields.event === 'metadata')) {
        assert.equal(fields.method, method);
        assert.match(fields.metadata?.authorization ?? '', redactedBearer);
        assert.equal(fields.metadata?.['x-request-id'], 'r-1');
        assert.ok(line.startsWith(`→ ${method} `), line);
      }
      for (const { line, fields } of logged.filter((entry) => entry.fields.event === 'status')) {
        assert.equal(fields.code, grpc.status.OK);
        assert.equal(line, `← ${method} OK`);
      }
      assertNothingSecret(
        logged,
        grpcServer.received.flatMap((call) => call.authorization.map(bearerToken)),
      );
    });
  }

  it('logs the final status of a rejected call with the details and any echoed token redacted', async (t) => {
    const { tokens, grpcServer } = await startScene(t);
    grpcServer.rejectIf = () => true;
    const { client, logged } = loggingClient(grpcServer, tokens);
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    const statuses = logged.filter((entry) => entry.fields.event === 'status').map((entry) => entry.line);
    assert.deepEqual(
      statuses,
      Array(2).fill('← /test.v1.Echo/Unary UNAUTHENTICATED (16): test server rejected the token'),
      'the call and its replay',
    );
    assertNothingSecret(
      logged,
      grpcServer.received.flatMap((call) => call.authorization.map(bearerToken)),
    );
  });

  it("keeps the real ./server's English readable: 'bearer token audience is not this server' is not redacted", async (t) => {
    const { tokens, auth } = await startClientScene(t, { audience: 'https://orders.example.test' }); // the tokens' is https://api.example.test
    const { client, logged } = loggingClient(auth, tokens);
    const { error } = await unary(client);
    assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
    const status = logged.find((entry) => entry.fields.event === 'status');
    assert.equal(status?.line, '← /test.v1.Echo/Unary UNAUTHENTICATED (16): bearer token audience is not this server');
    assert.equal(status.fields.details, 'bearer token audience is not this server');
    assertNothingSecret(logged, [(await tokens.getToken()).accessToken]);
  });

  it('redacts what follows Bearer, Basic or DPoP in status details only when it looks like a credential', async (t) => {
    const details = [
      ['authorization is not a Bearer token', 'authorization is not a Bearer token'],
      ['Basic auth is not accepted; use Bearer Tokens.', 'Basic auth is not accepted; use Bearer Tokens.'],
      ['got Bearer abc123.def-456_ghi', 'got Bearer [redacted]'],
      ['got basic b3JkZXJzOnMzY3JldA==', 'got basic [redacted]'],
      ['got DPoP Xk9pQmZ2bGtLd2p3eHo', 'got DPoP [redacted]'],
      ['got bearer abcdefghijklmnopqrstuvwxyzabcdef', 'got bearer [redacted]'],
    ];
    const server = await startPolicyServer(t);
    const logged: Logged[] = [];
    const client = server.client([createMetadataLogger({ log: (line, fields) => logged.push({ line, fields }) })]);
    for (const [sent, shown] of details) {
      server.policy = () => ({ code: grpc.status.UNAUTHENTICATED, details: sent! });
      await unary(client);
      assert.equal(logged.at(-1)?.fields.details, shown, sent);
    }
  });

  it('redacts the opaque token it saw attached when the server echoes it in its details, in any form', async (t) => {
    const opaque = 'opaque+access/token=0123456789abcdef';
    const provider = {
      getToken: () => Promise.resolve(new AccessToken(opaque, new Date(Date.now() + 3_600_000), ['orders.read'])),
      invalidate: () => false,
    };
    const server = await startPolicyServer(t, (authorization) => {
      const token = authorization?.slice('Bearer '.length) ?? '';
      return { code: grpc.status.UNAUTHENTICATED, details: `rejected ${token} (${encodeURIComponent(token)})` };
    });
    const logged: Logged[] = [];
    const client = server.client([
      createAuthInterceptor(provider, { channelCredentials: server.channelCredentials }),
      createMetadataLogger({ log: (line, fields) => logged.push({ line, fields }) }),
    ]);
    await unary(client);
    const status = logged.find((entry) => entry.fields.event === 'status');
    assert.equal(status?.fields.details, 'rejected [redacted] ([redacted])');
    assert.ok(!JSON.stringify(logged).includes(opaque));
    assert.ok(!JSON.stringify(logged).includes(encodeURIComponent(opaque)));
  });

  it("escapes control characters in the server's details, so it cannot forge a log line", async (t) => {
    const server = await startPolicyServer(t, () => ({
      code: grpc.status.UNAUTHENTICATED,
      details: 'denied\r\n← /test.v1.Echo/Unary OK\u001b[2K\u202e',
    }));
    const logged: Logged[] = [];
    const client = server.client([createMetadataLogger({ log: (line, fields) => logged.push({ line, fields }) })]);
    await unary(client);
    const status = logged.find((entry) => entry.fields.event === 'status');
    assert.equal(status?.fields.details, 'denied\\r\\n← /test.v1.Echo/Unary OK\\x1b[2K\\u202e');
    assert.equal(status.line, `← /test.v1.Echo/Unary UNAUTHENTICATED (16): ${status.fields.details}`);
    // eslint-disable-next-line no-control-regex -- what must not be there
    for (const { line } of logged) assert.ok(!/[\u0000-\u001f\u202e]/.test(line), line);
  });

  it('redacts cookies, API keys, secret-looking keys, large binary values and JWT-like values by the documented rule', async (t) => {
    const { grpcServer } = await startScene(t);
    const logged: Logged[] = [];
    const tls = grpcServer.channelCredentials();
    const client = grpcServer.client(tls, {
      interceptors: [createMetadataLogger({ log: (line, fields) => logged.push({ line, fields }) })],
    });
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Basic b3JkZXJzOnMzY3JldA==');
    metadata.set('cookie', 'session=abc123');
    metadata.set('x-api-key', 'key-123456');
    metadata.set('x-upstream-token', 'opaque-upstream-value');
    metadata.set('x-forwarded-jwt', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
    metadata.set('small-bin', Buffer.from([1, 2, 3]));
    metadata.set('large-bin', Buffer.alloc(65, 7));
    metadata.set('x-request-id', 'r-2');
    await unary(client, { metadata });
    assert.deepEqual(logged[0]?.fields.metadata, {
      authorization: 'Basic [redacted: 20 chars]',
      cookie: '[redacted: 14 chars]',
      'x-api-key': '[redacted: 10 chars]',
      'x-upstream-token': '[redacted: 21 chars]',
      'x-forwarded-jwt': '[redacted: 36 chars]',
      'small-bin': 'AQID',
      'large-bin': '[65 bytes]',
      'x-request-id': 'r-2',
    });
    for (const secret of ['b3JkZXJzOnMzY3JldA', 'abc123', 'key-123456', 'opaque-upstream-value', 'eyJhbGci'])
      assert.ok(!JSON.stringify(logged).includes(secret), secret);
  });

  it("shows a caller's JWT whose exp no date can hold (9e15) without breaking the call", async (t) => {
    const { grpcServer } = await startScene(t);
    const logged: Logged[] = [];
    const client = grpcServer.client(grpcServer.channelCredentials(), {
      interceptors: [createMetadataLogger({ log: (line, fields) => logged.push({ line, fields }) })],
    });
    const part = (json: object): string => Buffer.from(JSON.stringify(json)).toString('base64url');
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${part({ alg: 'RS256' })}.${part({ exp: 9e15, scope: 'a' })}.c2ln`);
    assert.equal((await unary(client, { metadata })).error, undefined);
    assert.match(
      logged[0]?.fields.metadata?.authorization ?? '',
      /^Bearer \[redacted: \d+ chars; expires in \d+ s \(out of range for a date\); scopes a\]$/,
    );
  });

  it('keeps the call going when the log function throws', async (t) => {
    const { grpcServer } = await startScene(t);
    const tls = grpcServer.channelCredentials();
    const client = grpcServer.client(tls, {
      interceptors: [
        createMetadataLogger({
          log: () => {
            throw new Error('logger down');
          },
        }),
      ],
    });
    assert.equal((await unary(client)).error, undefined);
  });

  it('refuses a missing or mistyped log function and unknown options', () => {
    assert.throws(() => createMetadataLogger({} as never), AuthConfigError);
    assert.throws(() => createMetadataLogger({ log: 'console' } as never), /log must be a function/);
    assert.throws(
      () => createMetadataLogger({ log: () => undefined, lgo: true } as never),
      /unknown createMetadataLogger option "lgo"/,
    );
  });
});
