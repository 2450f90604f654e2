import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { AccessToken, SharedTokenCache, TokenManager } from '../../src/index.js';
import type { ManualClock, MockTokenServer } from '../../src/testing/index.js';
import { createRedisTokenCache } from '../../src/redis/index.js';
import { createClock, createManager, requestsSettled, startTokenServer, until } from '../helpers/token-fixtures.js';
import { pollUntil, settleAll } from './clock-driver.js';
import { nodeRedisClient, skipWithoutRedis, startRedisServer } from './redis-server.js';

const encryptionKey = randomBytes(32);

interface Fleet {
  readonly clock: ManualClock;
  readonly server: MockTokenServer;
  readonly managers: TokenManager[];
  /** Resolves once no token request is in flight and Redis has answered every command sent so far. */
  readonly quiet: () => Promise<void>;
}

/** `size` managers on one manual clock, one Redis and one token server issuing `lifetimeSec` tokens. */
async function startFleet(t: TestContext, size: number, lifetimeSec: number): Promise<Fleet> {
  const clock = createClock();
  const redis = await startRedisServer(t);
  const server = await startTokenServer(t, { clock, tokenLifetimeSec: lifetimeSec });
  const client = await nodeRedisClient(t, redis.url);
  // A 15 s lock lease (3 × commandTimeoutMs): its renewals run on the manual clock, so on a busy machine
  // the default 750 ms lease could run out in real time under a live holder and let a second manager fetch.
  const cache = counted(createRedisTokenCache(client, { encryptionKey, commandTimeoutMs: 5_000 }));
  const managers = Array.from({ length: size }, () =>
    createManager(t, server, {
      clock,
      requestTimeoutMs: 60_000,
      maxWaitMs: 120_000,
      sharedCache: cache,
    }),
  );
  const quiet = async (): Promise<void> => {
    for (const manager of managers) await requestsSettled(manager);
    // A cache read ends after its entry is decrypted (off the main thread): a reply alone is not enough.
    await until(() => cache.inFlight === 0);
    // Commands on one client are answered in order: the first PING follows every command sent so far,
    // the second the lock releases those answers set off.
    await client.ping();
    await client.ping();
  };
  return { clock, server, managers, quiet };
}

/**
 * `cache`, counting its operations in flight (a lock's release included), so that the test moves the
 * manual clock only once no manager is between a command and what it does with the answer.
 */
function counted(cache: SharedTokenCache): SharedTokenCache & { readonly inFlight: number } {
  let inFlight = 0;
  const track = async <T>(operation: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await operation();
    } finally {
      inFlight--;
    }
  };
  return {
    get inFlight() {
      return inFlight;
    },
    get: (key) => track(() => cache.get(key)),
    set: (key, token, ttlMs) => track(() => cache.set(key, token, ttlMs)),
    lock: async (key, ttlMs) => {
      const release = await track(() => cache.lock!(key, ttlMs));
      return release === undefined ? undefined : () => track(release);
    },
  };
}

const issued = (managers: TokenManager[]): number =>
  Math.min(...managers.map((manager) => manager.stats().tokensIssued));
const heldTokens = (managers: TokenManager[]): Set<string | undefined> =>
  new Set(managers.map((manager) => manager.getCachedToken()?.accessToken));

describe('refresh cycles of a fleet on a manual clock', { skip: skipWithoutRedis }, () => {
  it(
    'ten managers refresh an hour-long token in the background with one token request between them',
    { timeout: 30_000 },
    async (t) => {
      const { clock, server, managers } = await startFleet(t, 10, 3600);
      const [first] = await settleAll(
        clock,
        managers.map((manager) => manager.getToken()),
      );
      assert.equal(server.tokenRequestCount, 1);
      // Every refresh timer falls due by 60 s (the refresh margin) before expiry.
      await clock.advance((first?.expiresAt.getTime() ?? 0) - 60_000 - clock.now());
      await pollUntil(clock, () => issued(managers) >= 2);
      assert.equal(server.tokenRequestCount, 2);
      const held = heldTokens(managers);
      assert.equal(held.size, 1);
      assert.ok(!held.has(first?.accessToken), 'every manager holds the new token');
    },
  );

  it(
    'tokens that live shorter than the refresh margin are still shared, at start-up and at each refresh',
    { timeout: 30_000 },
    async (t) => {
      const { clock, server, managers, quiet } = await startFleet(t, 10, 30);
      await settleAll(
        clock,
        managers.map((manager) => manager.getToken()),
      );
      assert.equal(server.tokenRequestCount, 1);
      for (let cycle = 2; cycle <= 4; cycle++) {
        // Fires the refresh timers (at half-life, 15 s) as well as the polls, each once all is quiet.
        await pollUntil(clock, () => issued(managers) >= cycle, 20_000, 10_000, quiet);
        assert.equal(server.tokenRequestCount, cycle);
        assert.equal(heldTokens(managers).size, 1);
      }
    },
  );

  it('a token the server rejected is not served back from the shared cache', { timeout: 30_000 }, async (t) => {
    const { clock, server, managers } = await startFleet(t, 2, 3600);
    const [a, b] = managers as [TokenManager, TokenManager];
    const [rejected] = (await settleAll(clock, [a.getToken()])) as [AccessToken];
    const [shared] = await settleAll(clock, [b.getToken()]);
    assert.ok(shared?.accessToken === rejected.accessToken, "the second manager took the first one's token");
    assert.ok(a.invalidate(rejected.accessToken));
    const [fresh] = await settleAll(clock, [a.getToken()]);
    assert.ok(fresh?.accessToken !== rejected.accessToken, 'a new token, not the rejected one');
    assert.equal(server.tokenRequestCount, 2);
    // The other manager, told of the rejection too, takes the new token from the cache.
    b.invalidate(rejected.accessToken);
    const [taken] = await settleAll(clock, [b.getToken()]);
    assert.ok(taken?.accessToken === fresh?.accessToken, 'the new token, from the cache');
    assert.equal(server.tokenRequestCount, 2);
  });

  it(
    'a lock holder that closes mid-request frees the lock, and one waiter fetches for the rest',
    { timeout: 30_000 },
    async (t) => {
      const { clock, server, managers } = await startFleet(t, 4, 3600);
      const [holder, ...waiters] = managers as [TokenManager, ...TokenManager[]];
      server.failNext(1, { type: 'delay', ms: 60_000 });
      holder.getToken().catch(() => undefined);
      await until(() => server.tokenRequestCount === 1);
      const waiting = waiters.map((manager) => manager.getToken());
      await until(() => waiters.every((manager) => manager.stats().sharedCacheLockWaits === 1));
      holder.close();
      const tokens = await settleAll(clock, waiting);
      assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
      assert.equal(server.tokenRequestCount, 2, 'the abandoned request and one more');
    },
  );
});
