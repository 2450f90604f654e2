import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MockTokenServer } from '../../src/testing/index.js';
import { bundledBeforeTests } from '../helpers/cli-bundle.js';
import { clientId, clientSecret, startTokenServer, until } from '../helpers/token-fixtures.js';
import type { FleetProcessConfig, FleetProcessMessage } from './fixtures/fleet-process.js';
import { skipWithoutRedis, startRedisServer, type RedisServer } from './redis-server.js';

// Bundled once and run with plain node: a tsx start per process cost about a second of CPU each, for
// the dozens of processes this file starts.
const script = bundledBeforeTests(
  'fleet-process',
  fileURLToPath(new URL('./fixtures/fleet-process.ts', import.meta.url)),
);

interface Member {
  readonly proc: ChildProcess;
  readonly messages: FleetProcessMessage[];
  /** When each message arrived (performance.now()), by type; the first of each type. */
  readonly arrivedAt: Map<FleetProcessMessage['type'], number>;
}

/** A forked fleet process, killed by PID after the test. */
function startMember(t: TestContext, config: FleetProcessConfig): Member {
  const proc = fork(script, [JSON.stringify(config)], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const messages: FleetProcessMessage[] = [];
  const arrivedAt = new Map<FleetProcessMessage['type'], number>();
  proc.on('message', (message: FleetProcessMessage) => {
    messages.push(message);
    if (!arrivedAt.has(message.type)) arrivedAt.set(message.type, performance.now());
  });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid as number, 'SIGKILL');
  });
  return { proc, messages, arrivedAt };
}

function memberConfig(
  server: MockTokenServer,
  redis: RedisServer,
  encryptionKey: string,
  library: 'redis' | 'ioredis',
  extra: Partial<FleetProcessConfig> = {},
): FleetProcessConfig {
  return {
    tokenEndpoint: server.tokenEndpoint,
    clientId,
    clientSecret,
    redisPort: redis.port,
    library,
    encryptionKey,
    requestTimeoutMs: 10_000,
    refreshBeforeExpiryMs: 2_000,
    ...extra,
  };
}

const hashes = (members: Member[], type: 'token' | 'issued'): string[][] =>
  members.map((member) => member.messages.flatMap((message) => (message.type === type ? [message.hash] : [])));

const errors = (members: Member[]): string[] =>
  members.flatMap((member) =>
    member.messages.flatMap((message) => (message.type === 'error' ? [message.message] : [])),
  );

/** How many times a holder found its lock expired and taken by another (a lease that really ran out). */
const locksLost = (members: Member[]): number =>
  members
    .flatMap((member) => member.messages)
    .filter((message) => message.type === 'cacheFailed' && message.code === 'lock_lost').length;

const allReady = (members: Member[]): Promise<void> =>
  until(() => members.every((member) => member.messages.some((message) => message.type === 'ready')), 60_000);

/**
 * `size` processes on `library` that each get one token and exit at once (awaiting `close()`, then
 * closing their Redis client), started at the same moment.
 */
async function exitAtOnce(t: TestContext, library: 'redis' | 'ioredis', size: number): Promise<void> {
  const redis = await startRedisServer(t);
  const server = await startTokenServer(t);
  const encryptionKey = randomBytes(32).toString('base64');
  // maxWaitMs 20 s: a quarter of it (the longest wait for another's lock) leaves room for a busy machine.
  const config = memberConfig(server, redis, encryptionKey, library, { exitAfterToken: true, maxWaitMs: 20_000 });
  const members = Array.from({ length: size }, () => startMember(t, config));
  await allReady(members);
  for (const member of members) member.proc.send('go');
  await until(() => members.every((member) => member.proc.exitCode !== null) || errors(members).length > 0, 30_000);
  assert.deepEqual(errors(members), [], 'no getToken() failed');
  assert.ok(
    hashes(members, 'token').every((list) => list.length === 1),
    'every process got its token',
  );
  assert.ok(
    members.every((member) => member.proc.exitCode === 0),
    'every process exited with 0',
  );
  const requests = server.tokenRequestCount;
  const lost = locksLost(members);
  t.diagnostic(`${size} ${library} processes: ${requests} token request(s), ${lost} lock(s) lost`);
  assert.ok(requests === 1 || (requests === 2 && lost > 0), `${requests} token requests, ${lost} locks lost`);
}

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
    'twelve node-redis processes that each get one token and exit at once: every one gets it, with one token request',
    { timeout: 120_000 },
    (t) => exitAtOnce(t, 'redis', 12),
  );

  it(
    'four ioredis processes that each get one token and exit at once: every one gets it, with one token request',
    { timeout: 120_000 },
    (t) => exitAtOnce(t, 'ioredis', 4),
  );

  it(
    'a lock holder SIGKILLed mid-request in a fleet of eight: one survivor fetches, the others take its entry',
    { timeout: 120_000 },
    async (t) => {
      const redis = await startRedisServer(t);
      const server = await startTokenServer(t);
      const encryptionKey = randomBytes(32).toString('base64');
      server.failNext(1, { type: 'hang' });
      // The doomed process could hold the lock for 61 s; the survivors wait at most 10 s for it.
      const doomed = startMember(t, memberConfig(server, redis, encryptionKey, 'redis', { requestTimeoutMs: 60_000 }));
      const survivorConfig = memberConfig(server, redis, encryptionKey, 'redis', { maxWaitMs: 40_000 });
      const survivors = Array.from({ length: 7 }, () => startMember(t, survivorConfig));
      await allReady([doomed, ...survivors]);
      doomed.proc.send('go');
      await until(() => server.tokenRequestCount === 1, 10_000);
      for (const survivor of survivors) survivor.proc.send('go');
      await until(() => survivors.every((survivor) => survivor.arrivedAt.has('waiting')), 30_000);

      const killedAt = performance.now();
      process.kill(doomed.proc.pid as number, 'SIGKILL');
      await until(
        () => survivors.every((survivor) => survivor.arrivedAt.has('token')) || errors(survivors).length > 0,
        60_000,
      );

      const after = server.requests.slice(1).map((request) => request.time.getTime());
      const burst = after.filter((time) => time - (after[0] as number) <= 200).length;
      const lastTokenMs =
        Math.max(...survivors.map((survivor) => survivor.arrivedAt.get('token') as number)) - killedAt;
      const lost = locksLost(survivors);
      t.diagnostic(
        `after the kill: ${after.length} token request(s), ${burst} within 0.2 s of the first; ` +
          `every survivor had its token ${Math.round(lastTokenMs)} ms after the kill; ${lost} lock(s) lost`,
      );
      assert.ok(
        after.length === 1 || (after.length === 2 && lost > 0),
        `${after.length} token requests after the kill`,
      );
      // The lease (750 ms) runs out, one survivor fetches and writes, the others read: about 1 s, with room for a busy machine.
      assert.ok(lastTokenMs < 3_000, `every survivor had its token ${lastTokenMs} ms after the kill`);
    },
  );
});
