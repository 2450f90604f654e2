import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/testing/index.js';
import { createRedisTokenCache } from '../../src/redis/index.js';
import { createClock, createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { settleAll } from './clock-driver.js';
import { nodeRedisClient, settledKeyspace, skipWithoutRedis, startRedisServer } from './redis-server.js';

const encryptionKey = randomBytes(32);
const halfAnHourMs = 30 * 60_000;

describe('a fleet member with a wrong clock', { skip: skipWithoutRedis }, () => {
  it(
    'a 60 s token written by a member 30 min ahead is held by a member with the right clock for its real life, not 31 min',
    { timeout: 30_000 },
    async (t) => {
      // The writer and its token server agree with each other, half an hour ahead of the reader.
      const ahead = new ManualClock(createClock().now() + halfAnHourMs);
      const redis = await startRedisServer(t);
      const client = await nodeRedisClient(t, redis.url);
      const sharedCache = createRedisTokenCache(client, { encryptionKey });
      const server = await startTokenServer(t, { clock: ahead, tokenLifetimeSec: 60 });
      const writer = createManager(t, server, { clock: ahead, sharedCache });
      const [written] = await settleAll(ahead, [writer.getToken()]);
      assert.equal((written?.expiresAt.getTime() ?? 0) - ahead.now(), 60_000, "the writer's own view: 60 s");
      await settledKeyspace(redis.url);

      const right = createClock();
      const reader = createManager(t, server, { clock: right, sharedCache });
      const [read] = await settleAll(right, [reader.getToken()]);
      assert.equal(read?.accessToken, written?.accessToken, 'taken from the shared cache');
      assert.equal(server.tokenRequestCount, 1);
      const heldForMs = (read?.expiresAt.getTime() ?? Infinity) - right.now();
      assert.ok(heldForMs <= 60_000 + 5_000, `held for ${heldForMs} ms`);
      assert.ok(heldForMs > 50_000, `held for ${heldForMs} ms: still most of its life`);
    },
  );
});
