import { checkOptionNames } from '../common/option-checks.js';
import { AuthConfigError } from '../common/config-error.js';
import type { SharedToken, SharedTokenCache } from '../token/cache/shared-cache.js';
import { EntryCipher, type EncryptionKeyInput } from './entry-cipher.js';
import { redisCommands, type RedisClientLike } from './redis-commands.js';
import { leaseMsFor, takeLease } from './redis-lease.js';

/** Options of {@link createRedisTokenCache}. */
export interface RedisTokenCacheOptions {
  /**
   * The AES-256-GCM key entries are encrypted with: 32 bytes, or their base64 text. Required. For
   * rotation, a list: the first key encrypts, every key decrypts (deploy the new key second, then
   * first, then drop the old one).
   */
  encryptionKey: EncryptionKeyInput | readonly EncryptionKeyInput[];
  /** Put before every key this cache writes (entries and their locks). Default `'grpc-oauth2-credentials:'`. */
  keyPrefix?: string;
  /**
   * Longest wait for one Redis command, in milliseconds; a slower answer counts as a failure and
   * the manager fetches directly. Default 200. A lock's lease lasts 750 ms, or three times this if
   * that is longer.
   */
  commandTimeoutMs?: number;
}

const optionNames = [
  'encryptionKey',
  'keyPrefix',
  'commandTimeoutMs',
] as const satisfies readonly (keyof RedisTokenCacheOptions)[];

/**
 * A {@link SharedTokenCache} on Redis (or a Redis-protocol server such as Valkey), for the
 * TokenManager's `sharedCache` option, so that a fleet of processes makes one token request per
 * token lifetime. `client` is a connected node-redis (4 and later) or ioredis client of yours: the
 * cache never opens a connection, and never closes yours. It adds an `'error'` listener to it, so
 * that a lost connection cannot crash the process (the cache fails open instead).
 *
 * Entries are encrypted with `encryptionKey`, stored under `keyPrefix` + a hash of the token
 * endpoint, client id, scopes, audience and resource (no secret, no scope text), and expire with
 * their token; a reader counts the token's life from the entry's remaining time to live, never from
 * the writer's clock. Locks are `SET NX PX` with a random owner: a lease of 750 ms that the holder
 * renews while its request runs (so the lock of a holder that died is free within 750 ms), released
 * by compare-and-delete.
 *
 * @throws AuthConfigError for a client of neither library, or a bad option (never quoting the key).
 * @example
 * ```ts
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const tokens = new TokenManager({
 *   ...options,
 *   sharedCache: createRedisTokenCache(redis, { encryptionKey: process.env.TOKEN_CACHE_KEY!, keyPrefix: 'orders:oauth2:' }),
 * });
 * ```
 */
export function createRedisTokenCache(client: RedisClientLike, options: RedisTokenCacheOptions): SharedTokenCache {
  if (options === undefined) throw new AuthConfigError('createRedisTokenCache needs options with an encryptionKey');
  checkOptionNames(options, optionNames, 'createRedisTokenCache option');
  if (options.encryptionKey === undefined)
    throw new AuthConfigError('createRedisTokenCache needs an encryptionKey (32 bytes, or their base64 text)');
  const cipher = new EntryCipher(options.encryptionKey);
  const prefix = options.keyPrefix ?? 'grpc-oauth2-credentials:';
  if (typeof prefix !== 'string') throw new AuthConfigError('keyPrefix must be a string');
  const timeoutMs = options.commandTimeoutMs ?? 200;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000)
    throw new AuthConfigError('commandTimeoutMs must be a whole number of milliseconds from 1 to 60000');
  const commands = redisCommands(client, timeoutMs);
  const leaseMs = leaseMsFor(timeoutMs);
  return {
    async get(key: string): Promise<SharedToken | undefined> {
      const redisKey = prefix + key;
      const entry = await commands.getWithTtl(redisKey);
      if (entry === undefined) return undefined;
      const token = await cipher.open(redisKey, entry.value);
      return entry.ttlMs === undefined ? token : { ...token, ttlMs: entry.ttlMs };
    },
    async set(key: string, token: SharedToken, ttlMs: number): Promise<void> {
      const redisKey = prefix + key;
      await commands.setWithTtl(redisKey, await cipher.seal(redisKey, token), ttlMs);
    },
    lock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
      return takeLease(commands, `${prefix}${key}:lock`, ttlMs, leaseMs);
    },
  };
}
