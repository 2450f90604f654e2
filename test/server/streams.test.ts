import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { JWTPayload } from 'jose';
import { ManualClock } from '../../src/testing/index.js';
import type { AuthDecision, ServerAuthOptions } from '../../src/server/index.js';
import { methodPaths, openBidi, serverStream, unary } from '../helpers/grpc-fixture.js';
import { until } from '../helpers/token-fixtures.js';
import { bearer, newSigningKey, reasonOf, startAuthServer, startKeyServer, trusting } from './fixture.js';

async function scene(t: TestContext, options: Partial<ServerAuthOptions> = {}, before: grpc.ServerInterceptor[] = []) {
  const keys = await startKeyServer(t);
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const decisions: AuthDecision[] = [];
  const onDecision = (decision: AuthDecision): number => decisions.push(decision);
  const auth = await startAuthServer(t, { ...trusting(keys), clock, onDecision, ...options }, { before });
  return { keys, clock, auth, decisions, client: auth.client() };
}

describe('streams and token expiry', () => {
  it(
    'ends a bidi stream UNAUTHENTICATED when its token expires (exp plus the 30 s tolerance)',
    { timeout: 10_000 },
    async (t) => {
      const { keys, clock, client, decisions } = await scene(t);
      const token = await keys.sign({ exp: Math.floor(clock.now() / 1000) + 60 }, { nowMs: clock.now() });
      const stream = openBidi(client, { metadata: bearer(token) });
      stream.stream.write({ text: 'one' });
      assert.equal((await stream.nextReply()).text, 'orders-svc:one');
      await clock.advance(89_000);
      stream.stream.write({ text: 'two' });
      assert.equal((await stream.nextReply()).text, 'orders-svc:two', 'still open one second before');
      await clock.advance(1_000);
      const { error } = await stream.ended;
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
      assert.equal(reasonOf(error), 'stream_token_expired');
      assert.match(error?.details ?? '', /expired during the stream; open a new call/);
      assert.equal(decisions.at(-1)?.reason, 'stream_token_expired');
      assert.equal(decisions.at(-1)?.subject, 'orders-svc', "the record names the stream's verified subject");
    },
  );

  it(
    'a client that reopens its bidi stream on stream_token_expired goes on with a fresh token',
    { timeout: 10_000 },
    async (t) => {
      const { keys, clock, client } = await scene(t);
      const tokenFor = (lifetimeSec: number) =>
        keys.sign({ exp: Math.floor(clock.now() / 1000) + lifetimeSec }, { nowMs: clock.now() });
      const first = openBidi(client, { metadata: bearer(await tokenFor(60)) });
      first.stream.write({ text: 'a' });
      await first.nextReply();
      await clock.advance(90_000);
      const { error } = await first.ended;
      assert.equal(error?.metadata.get('grpc-oauth2-reason')[0], 'stream_token_expired');
      const second = openBidi(client, { metadata: bearer(await tokenFor(3600)) });
      second.stream.write({ text: 'b' });
      assert.equal((await second.nextReply()).text, 'orders-svc:b');
      second.stream.end();
      assert.equal((await second.ended).error, undefined);
    },
  );

  it('leaves a stream open past its token expiry with endStreamsAtExpiry: false', async (t) => {
    const { keys, clock, client } = await scene(t, { endStreamsAtExpiry: false });
    const stream = openBidi(client, {
      metadata: bearer(await keys.sign({ exp: Math.floor(clock.now() / 1000) + 60 }, { nowMs: clock.now() })),
    });
    stream.stream.write({ text: 'early' });
    await stream.nextReply();
    await clock.advance(3_600_000);
    stream.stream.write({ text: 'late' });
    assert.equal((await stream.nextReply()).text, 'orders-svc:late');
    stream.stream.end();
    assert.equal((await stream.ended).error, undefined);
  });

  it('sets no expiry timer for a unary call, and clears a stream timer when the stream ends', async (t) => {
    const { keys, clock, client } = await scene(t);
    const token = await keys.sign({}, { nowMs: clock.now() });
    assert.equal((await unary(client, { metadata: bearer(token) })).error, undefined);
    assert.equal(clock.pendingTimers, 0);
    const stream = openBidi(client, { metadata: bearer(token) });
    stream.stream.write({ text: 'x' });
    await stream.nextReply();
    assert.equal(clock.pendingTimers, 1);
    stream.stream.end();
    await stream.ended;
    await until(() => clock.pendingTimers === 0);
  });
});

describe('claims', () => {
  it('cannot be changed by a handler, for itself or for later calls with the same token', async (t) => {
    const keys = await startKeyServer(t);
    const methods = { [methodPaths.unary]: ['orders.read'], [methodPaths.serverStream]: ['orders.admin'] };
    const refused: unknown[] = [];
    const escalate = (claims: Readonly<JWTPayload> | undefined): void => {
      try {
        (claims?.scp as string[]).push('orders.admin');
        (claims?.tenant as { id: string }).id = 'umbrella';
      } catch (err) {
        refused.push(err);
      }
    };
    const auth = await startAuthServer(t, { ...trusting(keys), methods }, { onUnary: escalate });
    const client = auth.client();
    const token = await keys.sign({ scope: undefined, scp: ['orders.read'], tenant: { id: 'acme' } });
    assert.equal((await unary(client, { metadata: bearer(token) })).error, undefined);
    assert.ok(refused[0] instanceof TypeError, 'the claims are frozen all the way down');
    assert.equal(reasonOf((await serverStream(client, { metadata: bearer(token) })).error), 'missing_scope');
  });

  it('cannot be posed as by a client: a public method sees none whatever headers the call carries', async (t) => {
    const { auth, client } = await scene(t, { publicMethods: [methodPaths.unary] });
    const metadata = new grpc.Metadata();
    for (const name of ['x-verified-sub', 'x-auth-claims', 'grpc-oauth2-claims']) metadata.set(name, 'mallory');
    assert.equal((await unary(client, { metadata })).error, undefined);
    assert.deepEqual(auth.sightings, [{ method: methodPaths.unary, where: 'entry', subject: undefined }]);
  });
});

describe('verified-token cache', () => {
  /**
   * A scene that tells, per call, whether its token was answered from the cache: a cached token is
   * decided with no await (docs/server.md), so the authorize rule then runs while an interceptor
   * ahead of ours is still passing the metadata on.
   */
  async function cacheScene(t: TestContext, options: Partial<ServerAuthOptions> = {}) {
    let passing = false;
    const fromCache: boolean[] = [];
    const probe: grpc.ServerInterceptor = (_descriptor, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, pass) => {
              passing = true;
              pass(metadata);
              passing = false;
            },
          }),
      });
    const authorize = (): boolean => fromCache.push(passing) > 0;
    const context = await scene(t, { ...options, authorize }, [probe]);
    const { keys, clock, client } = context;
    const tokens = await Promise.all(
      ['first', 'second', 'third'].map((sub) => keys.sign({ sub }, { nowMs: clock.now() })),
    );
    /** Whether the call with `token` was answered from the cache. */
    const cached = async (token: string): Promise<boolean> => {
      assert.equal((await unary(client, { metadata: bearer(token) })).error, undefined);
      return fromCache.at(-1)!;
    };
    return { ...context, tokens, cached };
  }

  it('answers a token verified before from the cache', async (t) => {
    const { tokens, cached } = await cacheScene(t);
    assert.equal(await cached(tokens[0]!), false);
    assert.equal(await cached(tokens[0]!), true);
  });

  it('verifies every call when maxCachedTokens is 0', async (t) => {
    const { tokens, cached } = await cacheScene(t, { maxCachedTokens: 0 });
    await cached(tokens[0]!);
    assert.equal(await cached(tokens[0]!), false);
  });

  it('keeps at most maxCachedTokens tokens, dropping the least recently used', async (t) => {
    const { tokens, cached } = await cacheScene(t, { maxCachedTokens: 2 });
    for (const token of tokens) await cached(token);
    assert.equal(await cached(tokens[2]!), true);
    assert.equal(await cached(tokens[1]!), true);
    assert.equal(await cached(tokens[0]!), false);
  });

  it('ends a cached verification when its key leaves the key set', async (t) => {
    const { keys, clock, client } = await scene(t);
    const call = async (token: string) => reasonOf((await unary(client, { metadata: bearer(token) })).error) ?? 'ok';
    const year = Math.floor(clock.now() / 1000) + 365 * 86_400;
    const stolen = await keys.sign({ exp: year }, { nowMs: clock.now() });
    assert.equal(await call(stolen), 'ok');
    const next = await newSigningKey();
    keys.served = [next.jwk];
    await clock.advance(30_000);
    // A token of the new key makes the server refetch: the old key is gone from its key set.
    assert.equal(await call(await keys.sign({}, { key: next, nowMs: clock.now() })), 'ok');
    assert.equal(await call(stolen), 'unknown_key');
  });

  it("keeps a cached verification no longer than the key set's cache age (10 min)", async (t) => {
    const { keys, clock, client } = await scene(t);
    const call = async (token: string) => reasonOf((await unary(client, { metadata: bearer(token) })).error) ?? 'ok';
    const stolen = await keys.sign({ exp: Math.floor(clock.now() / 1000) + 365 * 86_400 }, { nowMs: clock.now() });
    assert.equal(await call(stolen), 'ok');
    keys.served = [(await newSigningKey()).jwk];
    await clock.advance(660_000);
    // The keys are stale: this call is still answered with them, and refetches them in the background.
    await call(stolen);
    await until(() => keys.jwksRequests === 2);
    assert.equal(await call(stolen), 'unknown_key');
    await clock.advance(300 * 86_400_000);
    assert.equal(await call(stolen), 'unknown_key');
  });
});
