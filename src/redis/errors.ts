/**
 * Why a shared-cache operation on Redis did not work, as a stable string a program can switch on:
 * - `timeout`: Redis did not answer within `commandTimeoutMs`.
 * - `unavailable`: the client is not connected (closed, or reconnecting after Redis went away).
 * - `command_failed`: Redis or the client rejected the command.
 * - `bad_entry`: the stored entry cannot be used: written with another `encryptionKey`, tampered
 *   with, moved from another key, or not an entry of ours.
 * - `lock_lost`: a lock ran out before its holder released it (the holder's renewals did not reach
 *   Redis in time, or its request outlasted `requestTimeoutMs` + 1 s), so another process may have
 *   fetched a token too. Reported on the release.
 */
export type RedisTokenCacheErrorCode = 'timeout' | 'unavailable' | 'command_failed' | 'bad_entry' | 'lock_lost';

/**
 * What the Redis token cache rejects with. The TokenManager never lets it reach a `getToken()`
 * caller: it fetches directly instead and reports the error in a `sharedCacheFailed` event. Its
 * message names the command and the cause, never a key's value, a token or the encryption key.
 */
export class RedisTokenCacheError extends Error {
  override readonly name = 'RedisTokenCacheError';
  readonly code: RedisTokenCacheErrorCode;

  constructor(code: RedisTokenCacheErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
