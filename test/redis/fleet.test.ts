import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { TokenManager } from '../../src/index.js';
import { createRedisTokenCache, type RedisClientLike } from '../../src/redis/index.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { ioredisClient, nodeRedisClient, skipWithoutRedis, startRedisServer } from './redis-server.js';

const encryptionKey = randomBytes(32);

function fleet(
  t: TestContext,
  server: Awaited<ReturnType<typeof startTokenServer>>,
  client: RedisClientLike,
  size: number,
): TokenManager[] {
  return Array.from({ length: size }, () =>
    createManager(t, server, { sharedCache: createRedisTokenCache(client, { encryptionKey, keyPrefix: 'test:' }) }),
  );
}

describe('a fleet sharing one Redis', { skip: skipWithoutRedis }, () => {
  it('twenty managers on a node-redis client, cold at the same moment, make one token request and get the same token', async (t) => {
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t);
    const managers = fleet(t, server, await nodeRedisClient(t, redis.url), 20);
    const tokens = await Promise.all(managers.map((manager) => manager.getToken()));
    assert.equal(server.tokenRequestCount, 1);
    assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
    const hits = managers.reduce((sum, manager) => sum + manager.stats().sharedCacheHits, 0);
    assert.equal(hits, 19);
  });

  it('twenty managers on an ioredis client, cold at the same moment, make one token request and get the same token', async (t) => {
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t);
    const managers = fleet(t, server, await ioredisClient(t, redis.port), 20);
    const tokens = await Promise.all(managers.map((manager) => manager.getToken()));
    assert.equal(server.tokenRequestCount, 1);
    assert.equal(new Set(tokens.map((token) => token.accessToken)).size, 1);
  });
});
