// The shared token cache on Redis: `grpc-oauth2-credentials/redis`. The root entry point never
// imports this folder, so that `redis` and `ioredis` stay optional.
export { createRedisTokenCache, type RedisTokenCacheOptions } from './redis-token-cache.js';
export type { EncryptionKeyInput } from './entry-cipher.js';
export type { RedisClientLike, NodeRedisClientLike, IoRedisClientLike } from './redis-commands.js';
export { RedisTokenCacheError, type RedisTokenCacheErrorCode } from './errors.js';
export { AuthConfigError } from '../common/config-error.js';
