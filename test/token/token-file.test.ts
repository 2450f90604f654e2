import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createChannelCredentials, TokenError, TokenManager, type TokenFileOptions } from '../../src/index.js';
import { MockWorkloadIssuer, writeTokenFile, type ManualClock } from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { startGrpcFixture, unary, type GrpcFixture } from '../helpers/grpc-fixture.js';
import { createClock, driveUntilSettled, requestsSettled, until } from '../helpers/token-fixtures.js';

async function tokenFile(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'token-file-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'access-token');
}

function fromFile(t: TestContext, path: string, options: TokenFileOptions): TokenManager {
  const tokens = TokenManager.fromTokenFile(path, { retry: { retries: 0 }, ...options });
  t.after(() => tokens.close());
  return tokens;
}

/** What the sidecar's access tokens claim. */
const claims = { subject: 'orders-svc', audience: 'orders-api', claims: { scope: 'orders.read' } };

/** The issuer of the sidecar's access tokens. */
function issuer(clock: ManualClock): Promise<MockWorkloadIssuer> {
  return MockWorkloadIssuer.create({ issuer: 'https://auth.example.test', clock });
}

/** A sidecar that writes access tokens (JWTs for `orders-svc`) into the file. */
async function sidecar(clock: ManualClock): Promise<(path: string, lifetimeSec?: number) => Promise<string>> {
  const tokens = await issuer(clock);
  return (path, lifetimeSec = 3600) => tokens.writeTokenFile(path, { ...claims, lifetimeSec });
}

async function grpcServer(t: TestContext): Promise<GrpcFixture> {
  const server = await startGrpcFixture();
  t.after(() => server.close());
  return server;
}

describe('TokenManager.fromTokenFile', () => {
  it("serves the file's token until the exp of its JWT, with its scopes", async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const written = await (await sidecar(clock))(path, 600);
    const token = await fromFile(t, path, { clock }).getToken();
    assert.equal(token.accessToken, written);
    assert.equal(token.expiresAt.getTime(), clock.now() + 600_000);
    assert.deepEqual(token.scopes, ['orders.read']);
  });

  it('reads the rewritten file when the token is due for refresh, without a restart', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const write = await sidecar(clock);
    const first = await write(path, 600);
    const tokens = fromFile(t, path, { clock, refreshBeforeExpiryMs: 60_000 });
    assert.equal((await tokens.getToken()).accessToken, first);

    const second = await write(path, 600);
    assert.equal((await tokens.getToken()).accessToken, first, 'served from the cache before the refresh is due');
    await clock.advance(545_000);
    await requestsSettled(tokens);
    assert.equal((await tokens.getToken()).accessToken, second);
  });

  it('gives an opaque token defaultLifetimeMs from when it was read', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    await writeTokenFile(path, 'opaque-token-from-the-sidecar\n');
    const token = await fromFile(t, path, { clock, defaultLifetimeMs: 120_000 }).getToken();
    assert.equal(token.accessToken, 'opaque-token-from-the-sidecar');
    assert.equal(token.expiresAt.getTime(), clock.now() + 120_000);
  });

  it('never serves an expired token: an expired file is a retryable error naming the file', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const written = await (await sidecar(clock))(path, -30);
    await assert.rejects(fromFile(t, path, { clock }).getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'config');
      assert.equal(err.retryable, true);
      assert.match(
        err.message,
        new RegExp(
          `^token file ${path} holds a token that expired at .*; whatever writes the file has stopped refreshing it$`,
        ),
      );
      assert.ok(!err.message.includes(written.split('.')[1]!));
      return true;
    });
  });

  it('fails retryably for a missing or empty file, naming it', async (t) => {
    const path = await tokenFile(t);
    await assert.rejects(fromFile(t, path, {}).getToken(), {
      code: 'config',
      retryable: true,
      message: `token file ${path} could not be read (ENOENT)`,
    });
    await writeFile(path, ' \n');
    await assert.rejects(fromFile(t, path, {}).getToken(), {
      code: 'config',
      retryable: true,
      message: `token file ${path} is empty`,
    });
  });

  it('fails for good on content that cannot be a bearer token, without showing it', async (t) => {
    const path = await tokenFile(t);
    await writeFile(path, 'Bearer not-a-token-secret-value');
    await assert.rejects(fromFile(t, path, {}).getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(`^token file ${path} does not hold a bearer token`));
      assert.ok(!err.message.includes('not-a-token-secret-value'));
      return true;
    });
  });

  it('never serves the first 30 characters of a JWT (a write caught half-way): a retryable failure, without the fragment', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const jwt = await (await issuer(clock)).sign(claims);
    await writeFile(path, jwt.slice(0, 30));
    const tokens = fromFile(t, path, { clock });
    await assert.rejects(tokens.getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'config');
      assert.equal(err.retryable, true);
      assert.equal(
        err.message,
        `token file ${path} holds the start of a JWT but not a whole one (a write caught half-way?); it is read again soon`,
      );
      assert.ok(!err.message.includes(jwt.slice(0, 30)));
      return true;
    });
    await writeFile(path, jwt);
    await clock.advance(1_000); // past the backoff remembered for the failure
    assert.equal((await tokens.getToken()).accessToken, jwt);
  });

  it('a caller waiting through the retries gets the whole JWT once its writer finishes, and never the part', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const jwt = await (await issuer(clock)).sign(claims);
    await writeFile(path, jwt.slice(0, 30));
    const tokens = TokenManager.fromTokenFile(path, { clock });
    t.after(() => tokens.close());
    const served: string[] = [];
    tokens.on('tokenIssued', () => void tokens.getToken().then((token) => served.push(token.accessToken)));
    const startedAt = clock.now();
    const waiting = tokens.getToken();
    await until(() => tokens.stats().failedTokenRequests === 1);
    await writeFile(path, jwt);
    const { value, error } = await driveUntilSettled(clock, tokens, waiting);
    assert.equal(error, undefined);
    assert.equal(value?.accessToken, jwt);
    assert.ok(clock.now() - startedAt <= 1_000, `served ${clock.now() - startedAt} ms after the first read`);
    assert.deepEqual(served, [jwt]);
  });

  it('refuses every other cut of a JWT, and serves an encrypted (JWE) token and an unsecured JWT as they are', async (t) => {
    const clock = createClock();
    const jwt = await (await issuer(clock)).sign(claims);
    const [header = '', payload = '', signature = ''] = jwt.split('.');
    const cuts = [
      `${header}`,
      `${header}.`,
      `${header}.${payload.slice(0, 20)}`,
      `${header}.${payload}`,
      `${header}.${payload}.`,
      `${header}.${payload}.${signature.slice(0, 1)}`,
      `${header.slice(0, -2)}.${payload}.${signature}`,
    ];
    for (const cut of cuts) {
      const path = await tokenFile(t);
      await writeFile(path, cut);
      await assert.rejects(
        fromFile(t, path, { clock }).getToken(),
        {
          code: 'config',
          retryable: true,
          message: new RegExp(`^token file ${path} holds the start of a JWT but not a whole one`),
        },
        cut,
      );
    }
    const part = (json: object): string => Buffer.from(JSON.stringify(json)).toString('base64url');
    const wholeTokens = [
      `${part({ alg: 'dir', enc: 'A256GCM' })}..aXYtaXYtaXYtaXY.Y2lwaGVydGV4dA.dGFnLXRhZy10YWc`,
      `${part({ alg: 'none' })}.${part({ sub: 'orders-svc', exp: Math.floor(clock.now() / 1000) + 600 })}.`,
    ];
    for (const whole of wholeTokens) {
      const path = await tokenFile(t);
      await writeFile(path, whole);
      assert.equal((await fromFile(t, path, { clock }).getToken()).accessToken, whole);
    }
  });

  it('refuses options that do not apply to a token file, suggesting the right one', (t) => {
    assert.throws(
      () => fromFile(t, '/t', { scopes: ['a'] } as TokenFileOptions),
      invalidOption('unknown fromTokenFile option "scopes"'),
    );
    assert.throws(
      () => fromFile(t, '/t', { refreshBeforeExpiry: 1 } as TokenFileOptions),
      invalidOption('unknown fromTokenFile option "refreshBeforeExpiry"; did you mean "refreshBeforeExpiryMs"?'),
    );
    assert.throws(
      () => TokenManager.fromTokenFile(''),
      invalidOption(/^fromTokenFile path must be a non-empty string/),
    );
  });
});

describe('TokenManager.fromTokenFile over gRPC', () => {
  it('sends the token in the file on calls, and the rewritten one once it is due', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const write = await sidecar(clock);
    const first = await write(path, 600);
    const tokens = fromFile(t, path, { clock });
    const server = await grpcServer(t);
    const client = server.client(createChannelCredentials(server.channelCredentials(), tokens));

    assert.equal((await unary(client)).error, undefined);
    const second = await write(path, 600);
    await clock.advance(545_000);
    await requestsSettled(tokens);
    assert.equal((await unary(client)).error, undefined);
    assert.deepEqual(
      server.received.map((call) => call.authorization),
      [[`Bearer ${first}`], [`Bearer ${second}`]],
    );
  });

  it('ends calls UNAVAILABLE while the file holds an expired token, and recovers when it is rewritten', async (t) => {
    const clock = createClock();
    const path = await tokenFile(t);
    const write = await sidecar(clock);
    await write(path, -1);
    const tokens = fromFile(t, path, { clock });
    const server = await grpcServer(t);
    const client = server.client(createChannelCredentials(server.channelCredentials(), tokens));

    const { error } = await unary(client);
    assert.equal(error?.code, status.UNAVAILABLE);
    assert.match(error?.details ?? '', new RegExp(`token file ${path} holds a token that expired`));
    assert.equal(server.received.length, 0);

    const fresh = await write(path, 600);
    await clock.advance(1_000); // past the backoff remembered for the failure
    assert.equal((await unary(client)).error, undefined);
    assert.deepEqual(server.received.at(-1)?.authorization, [`Bearer ${fresh}`]);
  });

  it('ends calls UNAUTHENTICATED when the file holds something that is not a token', async (t) => {
    const path = await tokenFile(t);
    await writeFile(path, 'not a token');
    const tokens = fromFile(t, path, {});
    const server = await grpcServer(t);
    const { error } = await unary(server.client(createChannelCredentials(server.channelCredentials(), tokens)));
    assert.equal(error?.code, status.UNAUTHENTICATED);
  });
});
