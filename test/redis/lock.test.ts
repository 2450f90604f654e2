import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { AccessToken, SharedCacheFailedEvent, TokenManager } from '../../src/index.js';
import type { ManualClock, MockTokenServer, TokenServerFault } from '../../src/testing/index.js';
import { createRedisTokenCache, RedisTokenCacheError, type RedisClientLike } from '../../src/redis/index.js';
import { createClock, createManager, startTokenServer, until } from '../helpers/token-fixtures.js';
import { pollUntil, settleAll } from './clock-driver.js';
import { dumpKeyspace, nodeRedisClient, settledKeyspace, skipWithoutRedis, startRedisServer } from './redis-server.js';

const encryptionKey = randomBytes(32);

/** A manager on `clock` with its own cache over `client`; it waits long, so only the lock rules end a wait. */
function member(
  t: TestContext,
  server: MockTokenServer,
  client: RedisClientLike,
  clock: ManualClock,
  options: { maxWaitMs?: number; commandTimeoutMs?: number } = {},
): TokenManager {
  return createManager(t, server, {
    clock,
    requestTimeoutMs: 60_000,
    maxWaitMs: options.maxWaitMs ?? 120_000,
    sharedCache: createRedisTokenCache(client, { encryptionKey, commandTimeoutMs: options.commandTimeoutMs ?? 200 }),
  });
}

const lockKeys = async (url: string): Promise<string[]> =>
  [...(await dumpKeyspace(url)).keys()].filter((key) => key.endsWith(':lock'));

/** A Redis, a token server, a manual clock, a client to look into Redis, and a holder on its own client. */
async function startScene(t: TestContext, holderOptions: { commandTimeoutMs?: number } = {}) {
  const redis = await startRedisServer(t);
  const server = await startTokenServer(t);
  const clock = createClock();
  const observer = await nodeRedisClient(t, redis.url);
  const holderClient = await nodeRedisClient(t, redis.url);
  const holder = member(t, server, holderClient, clock, holderOptions);
  const newMember = async (options: { maxWaitMs?: number } = {}): Promise<TokenManager> =>
    member(t, server, await nodeRedisClient(t, redis.url), clock, options);
  /** The holder's getToken(), once it holds the lock and its request (answered as `fault` says) is in flight. */
  const holderFetching = async (fault: TokenServerFault): Promise<{ held: Promise<AccessToken> }> => {
    server.failNext(1, fault);
    const held = holder.getToken();
    held.catch(() => undefined);
    await until(() => server.tokenRequestCount === 1);
    return { held };
  };
  return { redis, server, clock, observer, holderClient, holder, newMember, holderFetching };
}

describe('the lock of the shared cache', { skip: skipWithoutRedis }, () => {
  it(
    'a lock key left with no expiry costs a cold getToken() no wait: it is taken over',
    { timeout: 10_000 },
    async (t) => {
      // A clock the test never moves: a getToken() that waited for the lock would never resolve.
      const { redis, server, observer, holder, newMember } = await startScene(t);
      await holder.getToken();
      const [entryKey] = [...(await settledKeyspace(redis.url)).keys()] as [string];
      await observer.del(entryKey);
      await observer.set(`${entryKey}:lock`, 'left by hand');

      const token = await (await newMember()).getToken();
      assert.ok(token.accessToken);
      assert.equal(server.tokenRequestCount, 2);
      const settled = await settledKeyspace(redis.url);
      assert.deepEqual([...settled.keys()], [entryKey], 'the entry written, the lock released');
    },
  );

  it(
    'a holder that closes its manager and destroys its Redis client right after its token has shared it: the waiter takes the entry',
    { timeout: 30_000 },
    async (t) => {
      const { server, clock, holderClient, holder, newMember, holderFetching } = await startScene(t);
      const waiter = await newMember();
      // The holder's request takes two real seconds: the waiter starts waiting meanwhile.
      const { held } = await holderFetching({ type: 'delay', ms: 2_000 });
      const waiting = waiter.getToken();
      await until(() => waiter.stats().sharedCacheLockWaits === 1);
      const token = await held;
      holder.close();
      holderClient.destroy();

      const [taken] = await settleAll(clock, [waiting]);
      assert.equal(taken?.accessToken, token.accessToken, "the holder's token, from the shared cache");
      assert.equal(server.tokenRequestCount, 1);
    },
  );

  it(
    "close() while the holder's request is in flight sends the lock's release at once: a Redis client closed gracefully right after delivers it",
    { timeout: 30_000 },
    async (t) => {
      // A 15 s lease (3 × commandTimeoutMs): on a loaded machine the default 750 ms one, renewed on the
      // test's manual clock, could run out before it is looked at; the release must be what removes it.
      const { redis, holderClient, holder, holderFetching } = await startScene(t, { commandTimeoutMs: 5_000 });
      const { held } = await holderFetching({ type: 'hang' });
      assert.equal((await lockKeys(redis.url)).length, 1, 'the holder has the lock');
      holder.close();
      // close() sends what is queued first; destroy() would drop it (the lease then runs out instead).
      await holderClient.close();
      assert.deepEqual(await lockKeys(redis.url), [], 'no lock left');
      await assert.rejects(held, { code: 'closed' });
    },
  );

  it(
    'a waiter gives up on a live but slow holder after a quarter of maxWaitMs and fetches itself',
    { timeout: 30_000 },
    async (t) => {
      const { server, clock, newMember, holderFetching } = await startScene(t);
      const waiter = await newMember({ maxWaitMs: 8_000 });
      await holderFetching({ type: 'hang' });
      const startedAt = clock.monotonicNow();
      const waiting = waiter.getToken();
      let gotAt = 0;
      void waiting.then(() => (gotAt = clock.monotonicNow()));
      await pollUntil(clock, () => gotAt > 0);
      assert.ok((await waiting).accessToken);
      assert.equal(server.tokenRequestCount, 2, "the hung request and the waiter's own");
      const waitedMs = gotAt - startedAt;
      assert.ok(waitedMs >= 2_000 && waitedMs <= 2_100, `waited ${waitedMs} ms (a quarter of maxWaitMs is 2000)`);
    },
  );

  it(
    "the holder's lock is a short lease it renews while its request runs, so the lock of a holder that goes away is free within the lease",
    { timeout: 30_000 },
    async (t) => {
      // commandTimeoutMs 500: a lease of 1.5 s renewed every 0.5 s, so that a busy machine does not
      // make the live holder miss its renewals (the default lease is 750 ms).
      const { redis, observer, holderClient, holderFetching } = await startScene(t, { commandTimeoutMs: 500 });
      await holderFetching({ type: 'hang' });
      const [lockKey] = (await lockKeys(redis.url)) as [string];
      // Watch the lock's remaining time until a renewal shows (it grows): never more than the lease.
      const seen: number[] = [];
      const deadline = Date.now() + 10_000;
      while (!(seen.length >= 2 && (seen.at(-1) as number) > (seen.at(-2) as number))) {
        assert.ok(Date.now() < deadline, 'a renewal within 10 s');
        const remainingMs = await observer.pTTL(lockKey);
        assert.ok(remainingMs > 0 && remainingMs <= 1_500, `the lock has ${remainingMs} ms left, not within the lease`);
        seen.push(remainingMs);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // The holder's Redis goes away (as when its process dies): no renewal, no release.
      holderClient.destroy();
      const goneAt = performance.now();
      while ((await observer.exists(lockKey)) === 1) {
        assert.ok(performance.now() - goneAt < 5_000, 'the lock is gone within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const tookMs = performance.now() - goneAt;
      t.diagnostic(`the lock outlived its holder's Redis connection by ${Math.round(tookMs)} ms`);
      assert.ok(tookMs <= 3_000, `the lock outlived its holder by ${tookMs} ms`);
    },
  );

  it(
    "a holder whose lock ran out before it released it says so: a sharedCacheFailed event with code 'lock_lost'",
    { timeout: 30_000 },
    async (t) => {
      // A 15 s lease, so that it is still there to be taken over when the test looks, however loaded the machine.
      const { redis, observer, holder, holderFetching } = await startScene(t, { commandTimeoutMs: 5_000 });
      const events: SharedCacheFailedEvent[] = [];
      holder.on('sharedCacheFailed', (event) => events.push(event));
      const { held } = await holderFetching({ type: 'delay', ms: 1_000 });
      const [lockKey] = (await lockKeys(redis.url)) as [string];
      // As if the lease had run out and another process had taken the lock.
      await observer.set(lockKey, 'another process', { PX: 60_000 });
      await held;
      await until(() => events.length > 0);
      const [event] = events as [SharedCacheFailedEvent];
      assert.equal(event.operation, 'release');
      assert.ok(event.error instanceof RedisTokenCacheError, 'a RedisTokenCacheError');
      assert.equal(event.error.code, 'lock_lost');
      assert.equal(await observer.get(lockKey), 'another process', "the other process's lock is left alone");
    },
  );
});
