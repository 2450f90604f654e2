import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createClient } from 'redis';
import type { SharedCacheFailedEvent, TokenManager } from '../../src/index.js';
import { createRedisTokenCache, type RedisTokenCacheOptions } from '../../src/redis/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { clientId, clientSecret, createClock, createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { settleAll } from './clock-driver.js';
import { nodeRedisClient, settledKeyspace, skipWithoutRedis, startRedisServer } from './redis-server.js';

const scopes = ['inventory.read', 'orders.read'];

/** A manager on its own cache over `client`, and the `sharedCacheFailed` events it emits. */
function managerWithEvents(
  t: Parameters<typeof createManager>[0],
  ...[server, client, clock, options]: [
    Parameters<typeof createManager>[1],
    Parameters<typeof createRedisTokenCache>[0],
    ReturnType<typeof createClock>,
    RedisTokenCacheOptions,
  ]
) {
  const manager: TokenManager = createManager(t, server, {
    clock,
    scopes,
    maxWaitMs: 120_000,
    requestTimeoutMs: 60_000,
    sharedCache: createRedisTokenCache(client, options),
  });
  const events: SharedCacheFailedEvent[] = [];
  manager.on('sharedCacheFailed', (event) => events.push(event));
  return { manager, events };
}

describe('entries in Redis are encrypted and bound to their key', { skip: skipWithoutRedis }, () => {
  it('no key or raw value holds the token, the secret, the client id or the scope text', async (t) => {
    const clock = createClock();
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t, { clock });
    const client = await nodeRedisClient(t, redis.url);
    const { manager } = managerWithEvents(t, server, client, clock, {
      encryptionKey: randomBytes(32),
      keyPrefix: 'fleet:',
    });
    const [token] = await settleAll(clock, [manager.getToken()]);
    const dump = await settledKeyspace(redis.url);
    assert.equal(dump.size, 1, 'the entry (the lock is gone)');
    const [[key, value]] = [...dump] as [[string, string]];
    assert.match(key, /^fleet:[\w-]{43}$/);
    const forbidden = [
      token?.accessToken ?? '',
      clientSecret,
      clientId,
      'orders.read',
      'inventory.read',
      server.tokenEndpoint,
    ];
    const tokenParts = (token?.accessToken ?? '').split('.');
    for (const text of [key, value, Buffer.from(value.split('.')[0] ?? '', 'base64url').toString()]) {
      for (const secret of [...forbidden, ...tokenParts])
        assert.ok(!text.includes(secret), 'nothing readable in Redis');
    }
  });

  it('an entry written with another encryption key reads as no entry: a fresh fetch and an event, no failure', async (t) => {
    const clock = createClock();
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t, { clock });
    const client = await nodeRedisClient(t, redis.url);
    const writer = managerWithEvents(t, server, client, clock, { encryptionKey: randomBytes(32) });
    const reader = managerWithEvents(t, server, client, clock, { encryptionKey: randomBytes(32).toString('base64') });
    await settleAll(clock, [writer.manager.getToken()]);
    await settleAll(clock, [reader.manager.getToken()]);
    assert.equal(server.tokenRequestCount, 2);
    assert.ok(reader.events.length > 0);
    for (const event of reader.events) {
      assert.equal(event.operation, 'get');
      assert.equal(event.error.name, 'RedisTokenCacheError');
      assert.match(event.error.message, /does not decrypt with encryptionKey/);
    }
  });

  it('a corrupted entry reads as no entry: a fresh fetch and an event', async (t) => {
    const clock = createClock();
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t, { clock });
    const client = await nodeRedisClient(t, redis.url);
    const encryptionKey = randomBytes(32);
    const first = managerWithEvents(t, server, client, clock, { encryptionKey });
    await settleAll(clock, [first.manager.getToken()]);
    const [[key, value]] = [...(await settledKeyspace(redis.url))] as [[string, string]];
    // One character of the ciphertext changed: the authentication tag no longer matches.
    const flipAt = value.lastIndexOf('.') - 3;
    await client.set(key, value.slice(0, flipAt) + (value[flipAt] === 'A' ? 'B' : 'A') + value.slice(flipAt + 1));
    const second = managerWithEvents(t, server, client, clock, { encryptionKey });
    await settleAll(clock, [second.manager.getToken()]);
    assert.equal(server.tokenRequestCount, 2);
    assert.match(second.events[0]?.error.message ?? '', /does not decrypt/);
  });

  it("an entry copied under another scope set's key reads as no entry", async (t) => {
    const clock = createClock();
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t, { clock });
    const client = await nodeRedisClient(t, redis.url);
    const encryptionKey = randomBytes(32);
    const { manager, events } = managerWithEvents(t, server, client, clock, { encryptionKey });
    await settleAll(clock, [
      manager.getToken({ scopes: ['orders.read'] }),
      manager.getToken({ scopes: ['orders.write'] }),
    ]);
    const before = await settledKeyspace(redis.url, 2);
    const [[keyA, valueA], [keyB]] = [...before] as [[string, string], [string, string]];
    await client.set(keyB, valueA);
    assert.notEqual(keyA, keyB);
    const other = managerWithEvents(t, server, client, clock, { encryptionKey });
    const requestsBefore = server.tokenRequestCount;
    await settleAll(clock, [
      other.manager.getToken({ scopes: ['orders.read'] }),
      other.manager.getToken({ scopes: ['orders.write'] }),
    ]);
    assert.equal(server.tokenRequestCount, requestsBefore + 1, 'the moved entry is refused, the other one used');
    assert.equal(events.length, 0);
    assert.match(other.events[0]?.error.message ?? '', /does not decrypt/);
  });

  it('key rotation: entries of the old key are read while the new key writes', async (t) => {
    const clock = createClock();
    const redis = await startRedisServer(t);
    const server = await startTokenServer(t, { clock });
    const client = await nodeRedisClient(t, redis.url);
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = managerWithEvents(t, server, client, clock, { encryptionKey: oldKey });
    await settleAll(clock, [before.manager.getToken()]);
    const during = managerWithEvents(t, server, client, clock, { encryptionKey: [newKey, oldKey] });
    await settleAll(clock, [during.manager.getToken(), during.manager.getToken({ scopes: ['orders.write'] })]);
    assert.equal(server.tokenRequestCount, 2, 'the old entry was read; the new scope set was fetched');
    const after = managerWithEvents(t, server, client, clock, { encryptionKey: newKey });
    await settleAll(clock, [after.manager.getToken({ scopes: ['orders.write'] })]);
    assert.equal(server.tokenRequestCount, 2, 'the entry written during rotation is read with the new key alone');
    assert.equal(during.events.length + after.events.length, 0);
  });
});

describe('createRedisTokenCache options', () => {
  const cases: [string, unknown, RegExp][] = [
    ['no options', undefined, /needs options with an encryptionKey/],
    ['no encryptionKey', {}, /needs an encryptionKey/],
    ['a 16-byte key', { encryptionKey: randomBytes(16) }, /exactly 32 bytes for AES-256-GCM, not 16/],
    [
      'a passphrase instead of base64',
      { encryptionKey: 'correct horse battery staple' },
      /base64 text \(44 characters/,
    ],
    ['an empty key list', { encryptionKey: [] }, /non-empty list/],
    [
      'a bad key in the list',
      { encryptionKey: [randomBytes(32), randomBytes(31)] },
      /encryptionKey\[1\] must be exactly 32 bytes/,
    ],
    [
      'a misspelled option',
      { encryptionKey: randomBytes(32), keyPrefx: 'a:' },
      /unknown createRedisTokenCache option "keyPrefx"; did you mean "keyPrefix"\?/,
    ],
    [
      'a zero timeout',
      { encryptionKey: randomBytes(32), commandTimeoutMs: 0 },
      /commandTimeoutMs must be a whole number/,
    ],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what} with an AuthConfigError`, () => {
      // Options are checked before anything is sent: a client that never connects will do.
      const client = createClient();
      assert.throws(() => createRedisTokenCache(client, options as RedisTokenCacheOptions), invalidOption(message));
    });
  }

  it('refuses a client of neither library, naming both', () => {
    assert.throws(
      () => createRedisTokenCache({ get: () => undefined } as never, { encryptionKey: randomBytes(32) }),
      invalidOption(/node-redis client .* or an ioredis client/),
    );
  });

  it('never quotes the key in its error', () => {
    const key = randomBytes(31).toString('base64');
    assert.throws(
      () => createRedisTokenCache({} as never, { encryptionKey: key }),
      (error: Error) => !error.message.includes(key),
    );
  });
});
