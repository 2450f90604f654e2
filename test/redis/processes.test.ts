import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MockTokenServer } from '../../src/testing/index.js';
import { createRedisTokenCache } from '../../src/redis/index.js';
import {
  clientId,
  clientSecret,
  createClock,
  createManager,
  startTokenServer,
  until,
} from '../helpers/token-fixtures.js';
import { settleAll } from './clock-driver.js';
import type { FleetProcessConfig, FleetProcessMessage } from './fixtures/fleet-process.js';
import { nodeRedisClient, skipWithoutRedis, startRedisServer, type RedisServer } from './redis-server.js';

const script = fileURLToPath(new URL('./fixtures/fleet-process.ts', import.meta.url));

interface Member {
  readonly proc: ChildProcess;
  readonly messages: FleetProcessMessage[];
}

/** A forked fleet process, killed by PID after the test. */
function startMember(t: TestContext, config: FleetProcessConfig): Member {
  const proc = fork(script, [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const messages: FleetProcessMessage[] = [];
  proc.on('message', (message: FleetProcessMessage) => messages.push(message));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid as number, 'SIGKILL');
  });
  return { proc, messages };
}

function memberConfig(
  server: MockTokenServer,
  redis: RedisServer,
  encryptionKey: string,
  library: 'redis' | 'ioredis',
  requestTimeoutMs = 10_000,
): FleetProcessConfig {
  return {
    tokenEndpoint: server.tokenEndpoint,
    clientId,
    clientSecret,
    redisPort: redis.port,
    library,
    encryptionKey,
    requestTimeoutMs,
    refreshBeforeExpiryMs: 2_000,
  };
}

const hashes = (members: Member[], type: 'token' | 'issued'): string[][] =>
  members.map((member) => member.messages.flatMap((message) => (message.type === type ? [message.hash] : [])));

describe('a fleet of real processes sharing one Redis', { skip: skipWithoutRedis }, () => {
  it(
    'twelve processes (node-redis and ioredis), cold at the same moment, make one token request, then one per refresh cycle',
    { timeout: 60_000 },
    async (t) => {
      const redis = await startRedisServer(t);
      // Four-second tokens, refreshed two seconds before expiry: a cycle every two seconds or so.
      const server = await startTokenServer(t, { tokenLifetimeSec: 4 });
      const encryptionKey = randomBytes(32).toString('base64');
      const members = Array.from({ length: 12 }, (_, index) =>
        startMember(t, memberConfig(server, redis, encryptionKey, index % 2 === 0 ? 'redis' : 'ioredis')),
      );
      await until(() => members.every((member) => member.messages.some((message) => message.type === 'ready')), 30_000);
      for (const member of members) member.proc.send('go');
      await until(() => hashes(members, 'token').every((list) => list.length === 1), 10_000);
      assert.equal(server.tokenRequestCount, 1);
      assert.equal(new Set(hashes(members, 'token').flat()).size, 1, 'every process has the same token');
      await until(() => hashes(members, 'issued').every((list) => new Set(list).size >= 2), 10_000);
      assert.equal(server.tokenRequestCount, 2, 'one request for the refresh cycle');
      const refreshed = hashes(members, 'issued').map((list) => list.at(-1));
      assert.equal(new Set(refreshed).size, 1, 'every process refreshed to the same token');
      for (const member of members) member.proc.send('exit');
    },
  );

  it(
    "a lock holder killed mid-request: the others fetch themselves once the lock's time is up, and nobody fails",
    { timeout: 60_000 },
    async (t) => {
      const redis = await startRedisServer(t);
      const server = await startTokenServer(t);
      const encryptionKey = randomBytes(32).toString('base64');
      server.failNext(1, { type: 'hang' });
      // The doomed process holds the lock for 61 s, longer than the test.
      const doomed = startMember(t, memberConfig(server, redis, encryptionKey, 'redis', 60_000));
      await until(() => doomed.messages.some((message) => message.type === 'ready'), 30_000);
      doomed.proc.send('go');
      await until(() => server.tokenRequestCount === 1);
      process.kill(doomed.proc.pid as number, 'SIGKILL');
      // The survivors wait for the lock's time (their own requestTimeoutMs + 1 s, on a manual clock).
      const clock = createClock();
      const client = await nodeRedisClient(t, redis.url);
      const survivors = Array.from({ length: 4 }, () =>
        createManager(t, server, {
          clock,
          requestTimeoutMs: 1_000,
          sharedCache: createRedisTokenCache(client, { encryptionKey, keyPrefix: 'fleet:' }),
        }),
      );
      const tokens = await settleAll(
        clock,
        survivors.map((manager) => manager.getToken()),
      );
      assert.equal(tokens.length, 4);
      assert.equal(server.tokenRequestCount, 1 + 4);
      assert.ok(survivors.every((manager) => manager.stats().sharedCacheLockWaits === 1));
    },
  );
});
