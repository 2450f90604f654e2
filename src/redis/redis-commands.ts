import { debuglog } from 'node:util';
import { AuthConfigError } from '../common/config-error.js';
import { RedisTokenCacheError } from './errors.js';

/** Debug lines: `NODE_DEBUG=grpc-oauth2-credentials-redis`. */
export const debug = debuglog('grpc-oauth2-credentials-redis');

/** The part of a node-redis (4 and later) client this package uses: a client from `createClient()`. */
export interface NodeRedisClientLike {
  /** Sends one raw command (`['SET', key, value, ...]`). */
  sendCommand(args: string[]): Promise<unknown>;
  readonly isReady: boolean;
  /** Where connection errors go; the cache listens so that none is unhandled. */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of an ioredis client (`new Redis()`) this package uses. */
export interface IoRedisClientLike {
  /** Sends one raw command. */
  call(command: string, ...args: string[]): Promise<unknown>;
  readonly status: string;
  /** Where connection errors go; the cache listens so that none is unhandled. */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** A client the user created and connected: node-redis or ioredis. */
export type RedisClientLike = NodeRedisClientLike | IoRedisClientLike;

/** The commands the cache sends, each bounded in time and failing with a RedisTokenCacheError. */
export interface RedisCommands {
  /** `GET key` and `PTTL key` at once: the value, and its remaining time to live in ms (undefined without one). */
  getWithTtl(key: string): Promise<{ value: string; ttlMs: number | undefined } | undefined>;
  /** `SET key value PX ttlMs`. */
  setWithTtl(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * `SET key value NX PX ttlMs`, and the same over a key that has no expiry: whether `value` holds
   * the key now.
   */
  takeLock(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** `PEXPIRE key ttlMs` while `key` still holds `value`: whether it did. */
  renewLock(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only while it still holds `value`: whether it did. */
  deleteIfEqual(key: string, value: string): Promise<boolean>;
}

// The scripts run atomically in Redis, so nothing happens between their reads and their writes.
/** The entry and its remaining life in one round trip: the reader counts the life on its own clock. */
const getWithTtlScript = "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}";
/**
 * A lock key with no expiry was not written by this cache (its locks always expire): whoever left it
 * there, it would stall every process until someone deleted it, so it is taken over like a free one.
 */
const takeLockScript = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
/** A lock that expired and was taken by another process must be neither extended nor deleted by its former holder. */
const renewLockScript =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const compareAndDeleteScript =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** Clients given an 'error' listener already: one is enough, however many caches share a client. */
const listenedTo = new WeakSet<RedisClientLike>();

/** ioredis states in which a command would only queue until a reconnection that may never come. */
const ioredisDown = new Set(['reconnecting', 'close', 'end']);

/**
 * Commands on `client`, whichever of the two libraries made it. Both take raw commands (node-redis
 * `sendCommand`, ioredis `call`), so one code path serves every version. Each command fails fast
 * while the client is not connected (both libraries would otherwise queue it), and after
 * `timeoutMs` when Redis is slow; a late answer is dropped.
 */
export function redisCommands(client: RedisClientLike, timeoutMs: number): RedisCommands {
  const send = commandSender(client);
  // Connection errors are the cache's to handle (it fails open), and an 'error' event without a
  // listener would crash the host process (node-redis emits one per failed reconnection).
  if (!listenedTo.has(client)) {
    listenedTo.add(client);
    client.on('error', (error: Error) => debug('redis client error: %s', error.message));
  }
  const run = async (args: string[]): Promise<unknown> => {
    const name = args[0] as string;
    if (!send.ready()) throw new RedisTokenCacheError('unavailable', `redis ${name}: the client is not connected`);
    const reply = send.command(args);
    reply.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisTokenCacheError('timeout', `redis ${name}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([reply, timeout]);
    } catch (error) {
      if (error instanceof RedisTokenCacheError) throw error;
      // The library's error may carry the command's arguments (ioredis does); only name and text pass.
      const cause = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
      throw new RedisTokenCacheError('command_failed', `redis ${name} failed: ${cause.slice(0, 200)}`);
    } finally {
      clearTimeout(timer);
    }
  };
  const script = (source: string, key: string, ...args: string[]): Promise<unknown> =>
    run(['EVAL', source, '1', key, ...args]);
  return {
    async getWithTtl(key) {
      const reply = await script(getWithTtlScript, key);
      const [value, ttlMs] = Array.isArray(reply) ? (reply as unknown[]) : [];
      if (typeof value !== 'string') return undefined;
      return { value, ttlMs: typeof ttlMs === 'number' && ttlMs >= 0 ? ttlMs : undefined };
    },
    async setWithTtl(key, value, ttlMs) {
      await run(['SET', key, value, 'PX', String(ttlMs)]);
    },
    async takeLock(key, value, ttlMs) {
      return (await script(takeLockScript, key, value, String(ttlMs))) === 1;
    },
    async renewLock(key, value, ttlMs) {
      return (await script(renewLockScript, key, value, String(ttlMs))) === 1;
    },
    async deleteIfEqual(key, value) {
      return (await script(compareAndDeleteScript, key, value)) === 1;
    },
  };
}

interface CommandSender {
  ready(): boolean;
  command(args: string[]): Promise<unknown>;
}

function commandSender(client: RedisClientLike): CommandSender {
  const candidate = client as Partial<NodeRedisClientLike & IoRedisClientLike> | null | undefined;
  if (typeof candidate?.on === 'function') {
    if (typeof candidate.sendCommand === 'function' && typeof candidate.isReady === 'boolean') {
      const nodeRedis = client as NodeRedisClientLike;
      return { ready: () => nodeRedis.isReady, command: (args) => nodeRedis.sendCommand(args) };
    }
    if (typeof candidate.call === 'function' && typeof candidate.status === 'string') {
      const ioredis = client as IoRedisClientLike;
      return {
        ready: () => !ioredisDown.has(ioredis.status),
        command: ([name, ...rest]) => ioredis.call(name as string, ...rest),
      };
    }
  }
  throw new AuthConfigError(
    'createRedisTokenCache needs a node-redis client (createClient() from "redis") or an ioredis client (new Redis())',
  );
}
