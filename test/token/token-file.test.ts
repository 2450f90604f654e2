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
import { createClock, requestsSettled } from '../helpers/token-fixtures.js';

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

/** A sidecar that writes access tokens (JWTs for `orders-svc`) into the file. */
async function sidecar(clock: ManualClock): Promise<(path: string, lifetimeSec?: number) => Promise<string>> {
  const issuer = await MockWorkloadIssuer.create({ issuer: 'https://auth.example.test', clock });
  return (path, lifetimeSec = 3600) =>
    issuer.writeTokenFile(path, {
      subject: 'orders-svc',
      audience: 'orders-api',
      lifetimeSec,
      claims: { scope: 'orders.read' },
    });
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
