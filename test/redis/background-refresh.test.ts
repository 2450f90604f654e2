import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { TokenManager, TokenManagerOptions } from '../../src/index.js';
import type { ManualClock, MockTokenServer } from '../../src/testing/index.js';
import { createRedisTokenCache } from '../../src/redis/index.js';
import { createClock, createManager, startTokenServer, until } from '../helpers/token-fixtures.js';
import { pollUntil } from './clock-driver.js';
import { nodeRedisClient, skipWithoutRedis, startRedisServer } from './redis-server.js';

const encryptionKey = randomBytes(32);
/** Real time goes by (Redis timeouts, slow answers), on a busy machine too. */
const bounded = { timeout: 30_000 };

/**
 * A background refresh is one whose token is still served while it runs: no caller waits for it.
 * Here the managers' tokens live an hour and are refreshed at half-life (refreshBeforeExpiryMs is
 * 30 min), so a background refresh has some 30 min of the manual clock to spare; the test moves
 * that clock only to fire the refresh timers and the shared cache's polls.
 */
const spareOptions: TokenManagerOptions = {
  requestTimeoutMs: 60_000,
  maxWaitMs: 2_000,
  refreshBeforeExpiryMs: 1_800_000,
};

async function startScene(t: TestContext, options: TokenManagerOptions, commandTimeoutMs = 50) {
  const redis = await startRedisServer(t);
  const clock = createClock();
  const server = await startTokenServer(t, { clock });
  const member = async (): Promise<TokenManager> =>
    createManager(t, server, {
      clock,
      ...options,
      sharedCache: createRedisTokenCache(await nodeRedisClient(t, redis.url), { encryptionKey, commandTimeoutMs }),
    });
  return { redis, clock, server, member };
}

/** Moves `clock` timer by timer until every one of `members` has started its background refresh. */
async function fireRefreshTimers(clock: ManualClock, members: readonly TokenManager[]): Promise<void> {
  await pollUntil(clock, () => members.every((tokens) => tokens.stats().backgroundRefreshes === 1), 3_600_000);
}

/**
 * A scene with `spareOptions`, and two managers of a fleet holding the same token (one token
 * request), each on its own Redis client.
 */
async function twoMembers(t: TestContext) {
  const scene = await startScene(t, spareOptions);
  const first = await scene.member();
  const second = await scene.member();
  await first.getToken();
  await second.getToken();
  assert.equal(scene.server.tokenRequestCount, 1, 'the second took the first one’s entry');
  return { ...scene, members: [first, second] as const };
}

/** Lets the refreshes of `members` finish, then checks that they made one token request between them. */
async function oneRequestForBoth(
  scene: { clock: ManualClock; server: MockTokenServer },
  members: readonly TokenManager[],
) {
  await pollUntil(scene.clock, () => members.every((tokens) => tokens.stats().tokensIssued === 2), 1_000, 20_000);
  assert.equal(scene.server.tokenRequestCount, 2, 'one request at start-up, one for the refresh');
  const [first, second] = members.map((tokens) => tokens.getCachedToken()?.accessToken);
  assert.equal(first, second, 'both refreshed to the same token');
}

const lockFailures = (tokens: TokenManager): (() => number) => {
  let count = 0;
  tokens.on('sharedCacheFailed', ({ operation }) => {
    if (operation === 'lock') count++;
  });
  return () => count;
};

describe('a background refresh with the shared cache', { skip: skipWithoutRedis }, () => {
  it(
    'Redis not answering when the fleet refreshes: no process fetches on its own; once Redis answers, one token request serves both',
    bounded,
    async (t) => {
      const { members, ...scene } = await twoMembers(t);
      const failures = members.map(lockFailures);
      scene.redis.pause();
      await fireRefreshTimers(scene.clock, members);
      // Both found Redis silent (their read and their lock timed out) while their tokens were still served.
      await until(() => failures.every((count) => count() >= 1));
      scene.redis.resume();
      await oneRequestForBoth(scene, members);
    },
  );

  it(
    'Redis never answering: the refresh fetches directly once only maxWaitMs of its token’s life is left, not before',
    bounded,
    async (t) => {
      // Refreshes come 60–66 s before expiry; with maxWaitMs at 56 s, 4–10 s of the manual clock are spare.
      const scene = await startScene(
        t,
        { requestTimeoutMs: 2_000, maxWaitMs: 56_000, refreshBeforeExpiryMs: 60_000 },
        20,
      );
      const tokens = await scene.member();
      const expiresAt = (await tokens.getToken()).expiresAt.getTime();
      scene.redis.pause();
      await fireRefreshTimers(scene.clock, [tokens]);
      const refreshStartedAt = scene.clock.now();
      await pollUntil(scene.clock, () => scene.server.tokenRequestCount === 2, 1_000, 20_000);

      const sentAt = (scene.server.requests.at(-1)?.time as Date).getTime();
      const dueAt = expiresAt - 56_000;
      assert.ok(
        sentAt >= dueAt && sentAt <= dueAt + 100,
        `fetched ${sentAt - refreshStartedAt} ms into the refresh, ${expiresAt - sentAt} ms before expiry (due ${expiresAt - dueAt} ms before)`,
      );
      await pollUntil(scene.clock, () => tokens.stats().tokensIssued === 2);
    },
  );

  it(
    'a token rejected while its background refresh waits for a silent Redis: the caller that needs a new one gets it within maxWaitMs',
    bounded,
    async (t) => {
      const scene = await startScene(t, spareOptions);
      const tokens = await scene.member();
      const rejected = await tokens.getToken();
      const failures = lockFailures(tokens);
      scene.redis.pause();
      await fireRefreshTimers(scene.clock, [tokens]);
      await until(() => failures() >= 1);
      assert.equal(tokens.invalidate(rejected.accessToken), true);
      const askedAt = scene.clock.monotonicNow();
      const waiting = tokens.getToken();
      let settledAt: number | undefined;
      waiting.then(
        () => (settledAt = scene.clock.monotonicNow()),
        () => (settledAt = scene.clock.monotonicNow()),
      );
      await pollUntil(scene.clock, () => settledAt !== undefined, 1_000, 20_000);

      const token = await waiting;
      assert.notEqual(token.accessToken, rejected.accessToken);
      assert.equal(scene.server.tokenRequestCount, 2, 'fetched directly, Redis being silent');
      assert.ok(
        (settledAt as number) - askedAt < 2_000,
        `waited ${(settledAt as number) - askedAt} ms of the manual clock`,
      );
    },
  );

  it(
    'a live but slow lock holder: the other process waits for its entry as long as its own token allows, one token request for both',
    bounded,
    async (t) => {
      // A quarter of maxWaitMs is 500 ms: the longest a caller without a token would wait for the holder.
      const { members, ...scene } = await twoMembers(t);
      scene.server.failNext(1, { type: 'delay', ms: 2_000 });
      await fireRefreshTimers(scene.clock, members);
      await until(() => members.some((tokens) => tokens.stats().sharedCacheLockWaits === 1));
      await oneRequestForBoth(scene, members);
    },
  );
});
