import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import type { SharedCacheFailedEvent } from '../../src/index.js';
import { inspect } from 'node:util';
import { createRedisTokenCache, RedisTokenCacheError } from '../../src/redis/index.js';
import { clientSecret, createClock, createManager, startTokenServer, until } from '../helpers/token-fixtures.js';
import { nodeRedisClient, skipWithoutRedis, startRedisServer } from './redis-server.js';

const encryptionKey = randomBytes(32);
/** A getToken() that waits on the (unmoving) clock would hang: fail instead. */
const bounded = { timeout: 5_000 };

/*
 * Every manager here runs on a manual clock that the test never moves: a getToken() that resolves
 * did not wait for any lock or poll, only for I/O.
 */
describe('fail open: Redis trouble never fails getToken()', { skip: skipWithoutRedis }, () => {
  it(
    'a node-redis client whose Redis never came up: the token is fetched directly, with an event',
    bounded,
    async (t) => {
      const clock = createClock();
      const server = await startTokenServer(t, { clock });
      const client = createClient({ url: 'redis://127.0.0.1:1', socket: { reconnectStrategy: () => 50 } });
      client.on('error', () => undefined);
      client.connect().catch(() => undefined);
      t.after(() => client.destroy());
      const tokens = createManager(t, server, { clock, sharedCache: createRedisTokenCache(client, { encryptionKey }) });
      const events: SharedCacheFailedEvent[] = [];
      tokens.on('sharedCacheFailed', (event) => events.push(event));
      const token = await tokens.getToken();
      assert.ok(token.accessToken);
      assert.equal(server.tokenRequestCount, 1);
      // The entry is written before the token is handed out: its write failed too.
      assert.deepEqual(
        events.map((event) => event.operation),
        ['get', 'lock', 'set'],
      );
      assert.match(events[0]?.error.message ?? '', /not connected/);
      // The class and the code to alert on, not a plain Error named like it.
      assert.ok(events[0]?.error instanceof RedisTokenCacheError, 'a RedisTokenCacheError');
      assert.equal(events[0].error.code, 'unavailable');
    },
  );

  it(
    'a cache error that quotes the client secret reaches the event as its own class and code, the secret scrubbed',
    bounded,
    async (t) => {
      const leaky = (): Promise<never> =>
        Promise.reject(new RedisTokenCacheError('command_failed', `redis GET failed: ReplyError: ${clientSecret}`));
      const clock = createClock();
      const server = await startTokenServer(t, { clock });
      const tokens = createManager(t, server, { clock, sharedCache: { get: leaky, set: leaky } });
      const events: SharedCacheFailedEvent[] = [];
      tokens.on('sharedCacheFailed', (event) => events.push(event));
      await tokens.getToken();
      await until(() => events.length === 2);
      assert.deepEqual(
        events.map((event) => event.operation),
        ['get', 'set'],
      );
      for (const { error } of events) {
        assert.ok(error instanceof RedisTokenCacheError, 'a RedisTokenCacheError');
        assert.equal(error.code, 'command_failed');
        assert.equal(error.name, 'RedisTokenCacheError');
        assert.match(error.message, /redis GET failed: ReplyError: \[redacted\]/);
        for (const text of [error.message, error.stack ?? '', inspect(error), JSON.stringify(error)]) {
          assert.ok(!text.includes(clientSecret), 'no secret in the event');
        }
      }
    },
  );

  it('an ioredis client whose Redis never came up: the token is fetched directly', bounded, async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    const client = new Redis(1, '127.0.0.1', { retryStrategy: () => 50 });
    client.on('error', () => undefined);
    t.after(() => client.disconnect());
    const tokens = createManager(t, server, { clock, sharedCache: createRedisTokenCache(client, { encryptionKey }) });
    assert.ok((await tokens.getToken()).accessToken);
    assert.equal(server.tokenRequestCount, 1);
  });

  it('Redis killed after the first token: later scope sets are fetched directly, with events', bounded, async (t) => {
    const clock = createClock();
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t, { clock });
    const sharedCache = createRedisTokenCache(await nodeRedisClient(t, redis.url), { encryptionKey });
    const tokens = createManager(t, server, { clock, sharedCache });
    const failures: string[] = [];
    tokens.on('sharedCacheFailed', (event) => failures.push(event.operation));
    await tokens.getToken();
    await redis.kill();
    await tokens.getToken({ scopes: ['orders.write'] });
    await tokens.getToken({ scopes: ['inventory.read'] });
    assert.equal(server.tokenRequestCount, 3);
    assert.ok(failures.includes('get'));
  });

  it(
    'Redis paused (no answers): each command gives up after commandTimeoutMs and the token is fetched directly',
    bounded,
    async (t) => {
      const clock = createClock();
      const redis = await startRedisServer(t);
      const server = await startTokenServer(t, { clock });
      const sharedCache = createRedisTokenCache(await nodeRedisClient(t, redis.url), {
        encryptionKey,
        commandTimeoutMs: 50,
      });
      const tokens = createManager(t, server, { clock, sharedCache });
      const failures: string[] = [];
      tokens.on('sharedCacheFailed', (event) => failures.push(`${event.operation}: ${event.error.message}`));
      redis.pause();
      const startedAt = performance.now();
      await tokens.getToken();
      const tookMs = performance.now() - startedAt;
      assert.equal(server.tokenRequestCount, 1);
      assert.match(failures[0] ?? '', /^get: .*no answer within 50 ms/);
      // get and lock time out (50 ms each); writing the entry does not hold the caller.
      assert.ok(tookMs < 1_000, `took ${tookMs} ms`);
    },
  );
});
