import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthInterceptor, createCallCredentials, createChannelCredentials } from '../../src/index.js';
import type { GetTokenOptions, TokenProvider } from '../../src/index.js';
import {
  bearerToken,
  callTypes,
  methodPaths,
  startScene,
  unary,
  serverStream,
  type CallType,
  type Scene,
} from '../helpers/grpc-fixture.js';

const callTypeNames: Record<CallType, string> = {
  unary: 'unary',
  clientStream: 'client-streaming',
  serverStream: 'server-streaming',
  bidi: 'bidi',
};

function interceptedClient(
  scene: Scene,
  options: Partial<Parameters<typeof createAuthInterceptor>[1]> = {},
): grpc.Client {
  const tls = scene.grpcServer.channelCredentials();
  const interceptor = createAuthInterceptor(scene.tokens, { channelCredentials: tls, ...options });
  return scene.grpcServer.client(tls, { interceptors: [interceptor] });
}

async function scopesOf(scene: Scene, authorization: string | undefined): Promise<string | undefined> {
  const claims = await scene.tokenServer.verifyAccessToken(bearerToken(authorization));
  return claims.scope as string | undefined;
}

describe('createAuthInterceptor', () => {
  for (const [type, call] of Object.entries(callTypes) as [CallType, (typeof callTypes)[CallType]][]) {
    test(`a ${callTypeNames[type]} call carries authorization: Bearer <the TokenManager's token>`, async (t) => {
      const scene = await startScene(t);
      const result = await call(interceptedClient(scene));

      assert.equal(result.error, undefined);
      const { accessToken } = await scene.tokens.getToken();
      assert.ok(result.replies.length > 0);
      for (const reply of result.replies) assert.deepEqual(reply.authorization, [`Bearer ${accessToken}`]);
      await scene.tokenServer.verifyAccessToken(accessToken);
      assert.equal(scene.tokenServer.tokenRequestCount, 1);
    });
  }

  test("keeps the caller's other metadata next to the token on every call type", async (t) => {
    const scene = await startScene(t);
    const client = interceptedClient(scene);
    for (const call of Object.values(callTypes)) {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'req-42');
      metadata.set('x-tenant', 'acme');
      const result = await call(client, { metadata });

      assert.equal(result.error, undefined);
      const [reply] = result.replies;
      assert.deepEqual(reply?.metadata['x-request-id'], ['req-42']);
      assert.deepEqual(reply?.metadata['x-tenant'], ['acme']);
      assert.equal(reply?.authorization.length, 1);
    }
  });

  test('scopesFor picks the scope set per method, and each set is cached separately', async (t) => {
    const scene = await startScene(t);
    const client = interceptedClient(scene, {
      scopesFor: (method) => (method === methodPaths.unary ? ['orders.write'] : undefined),
    });

    const write = await unary(client);
    const read = await serverStream(client);
    await unary(client);
    await serverStream(client);

    const writeAuthorization = write.replies[0]?.authorization[0];
    const readAuthorization = read.replies[0]?.authorization[0];
    assert.notEqual(writeAuthorization, readAuthorization);
    assert.equal(await scopesOf(scene, writeAuthorization), 'orders.write');
    assert.equal(await scopesOf(scene, readAuthorization), 'orders.read');
    assert.equal(scene.tokenServer.tokenRequestCount, 2);
  });

  test('1,000 concurrent first calls share one token request', async (t) => {
    const scene = await startScene(t);
    const client = interceptedClient(scene);

    const results = await Promise.all(Array.from({ length: 1000 }, () => unary(client)));

    assert.equal(results.filter((result) => result.error !== undefined).length, 0);
    assert.equal(new Set(results.map((result) => result.replies[0]?.authorization[0])).size, 1);
    assert.equal(scene.tokenServer.tokenRequestCount, 1);
  });
});

describe('createChannelCredentials', () => {
  for (const [type, call] of Object.entries(callTypes) as [CallType, (typeof callTypes)[CallType]][]) {
    test(`a ${callTypeNames[type]} call carries authorization: Bearer <the TokenManager's token>`, async (t) => {
      const scene = await startScene(t);
      const client = scene.grpcServer.client(
        createChannelCredentials(scene.grpcServer.channelCredentials(), scene.tokens),
      );

      const result = await call(client);

      assert.equal(result.error, undefined);
      const { accessToken } = await scene.tokens.getToken();
      for (const reply of result.replies) assert.deepEqual(reply.authorization, [`Bearer ${accessToken}`]);
      assert.equal(scene.tokenServer.tokenRequestCount, 1);
    });
  }

  test('requests the scopes it was given', async (t) => {
    const scene = await startScene(t);
    const channelCredentials = createChannelCredentials(scene.grpcServer.channelCredentials(), scene.tokens, {
      scopes: ['inventory.read'],
    });

    const result = await unary(scene.grpcServer.client(channelCredentials));

    assert.equal(await scopesOf(scene, result.replies[0]?.authorization[0]), 'inventory.read');
  });

  test('a usable cached token comes from getCachedToken(), for the scopes given, without asking getToken() again', async (t) => {
    const scene = await startScene(t);
    let tokenAsks = 0;
    const cacheAsks: unknown[] = [];
    const counting: TokenProvider = {
      getToken: (options) => {
        tokenAsks++;
        return scene.tokens.getToken(options);
      },
      getCachedToken: (options) => {
        cacheAsks.push(options?.scopes);
        return scene.tokens.getCachedToken(options);
      },
      invalidate: (accessToken) => scene.tokens.invalidate(accessToken),
    };
    const client = scene.grpcServer.client(
      createChannelCredentials(scene.grpcServer.channelCredentials(), counting, { scopes: ['inventory.read'] }),
    );

    const results = [];
    for (let i = 0; i < 4; i++) results.push(await unary(client));

    assert.equal(tokenAsks, 1, 'only the first call, with nothing cached, waited for a token');
    assert.deepEqual(cacheAsks, Array(4).fill(['inventory.read']));
    const { accessToken } = await scene.tokens.getToken({ scopes: ['inventory.read'] });
    for (const result of results) assert.deepEqual(result.replies[0]?.authorization, [`Bearer ${accessToken}`]);
    assert.equal(scene.tokenServer.tokenRequestCount, 1);
  });
});

describe("a custom provider's getCachedToken()", () => {
  // getCachedToken() is optional and a custom provider's may misbehave: none of that may reach a call.
  const unusableCachedTokens: [string, () => unknown][] = [
    ['answers null', () => null],
    ['answers a string', () => 'not-an-access-token-object'],
    ['answers a token that cannot go in a header', () => ({ accessToken: 'line\nbreak' })],
    [
      'throws',
      () => {
        throw new Error('cache bug');
      },
    ],
  ];
  for (const [what, getCachedToken] of unusableCachedTokens) {
    test(`when getCachedToken() ${what}, the call waits for getToken() instead`, async (t) => {
      const scene = await startScene(t);
      const odd = {
        getToken: (options?: GetTokenOptions) => scene.tokens.getToken(options),
        getCachedToken,
        invalidate: (accessToken: string) => scene.tokens.invalidate(accessToken),
      } as TokenProvider;
      const tls = scene.grpcServer.channelCredentials();
      const clients = {
        'channel credentials': scene.grpcServer.client(createChannelCredentials(tls, odd)),
        interceptor: scene.grpcServer.client(tls, {
          interceptors: [createAuthInterceptor(odd, { channelCredentials: tls })],
        }),
      };

      for (const [name, client] of Object.entries(clients)) {
        const result = await unary(client);
        assert.equal(result.error, undefined, name);
        const { accessToken } = await scene.tokens.getToken();
        assert.deepEqual(result.replies[0]?.authorization, [`Bearer ${accessToken}`], name);
      }
    });
  }
});

describe('createCallCredentials', () => {
  test('per-call credentials carry a token for the scopes they were given', async (t) => {
    const scene = await startScene(t);
    const tls = scene.grpcServer.channelCredentials();
    const client = scene.grpcServer.client(tls);
    const credentials = createCallCredentials(scene.tokens, { channelCredentials: tls, scopes: ['orders.write'] });

    const result = await unary(client, { options: { credentials } });

    assert.equal(result.error, undefined);
    assert.equal(await scopesOf(scene, result.replies[0]?.authorization[0]), 'orders.write');
  });

  test('composed into TLS channel credentials, they carry the token on every call type', async (t) => {
    const scene = await startScene(t);
    const tls = scene.grpcServer.channelCredentials();
    const channelCredentials = grpc.credentials.combineChannelCredentials(
      tls,
      createCallCredentials(scene.tokens, { channelCredentials: tls }),
    );
    const client = scene.grpcServer.client(channelCredentials);
    const { accessToken } = await scene.tokens.getToken();

    for (const call of Object.values(callTypes)) {
      const result = await call(client);
      assert.equal(result.error, undefined);
      assert.deepEqual(result.replies[0]?.authorization, [`Bearer ${accessToken}`]);
    }
  });
});
