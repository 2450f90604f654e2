import { channel } from 'node:diagnostics_channel';
import { describeThrown } from '../common/describe.js';
import type { TokenError } from './errors.js';
import type { SharedCacheOperation } from './cache/shared-cache.js';

/** Payload of the `tokenIssued` event. Never carries the token. */
export interface TokenIssuedEvent {
  /** Scopes the token was requested for (the cache key). */
  readonly scopes: readonly string[];
  /** Lifetime from the request to expiry, in milliseconds. */
  readonly lifetimeMs: number;
  readonly expiresAt: Date;
  /** When the manager will refresh it in the background. */
  readonly refreshAt: Date;
  /** From the first attempt to the answer, retries included, in milliseconds. */
  readonly latencyMs: number;
  /** Whether a caller was waiting for it (false for a background refresh). */
  readonly callerWaited: boolean;
}

/** Payload of the `refreshFailed` event: a retryable failure. */
export interface RefreshFailedEvent {
  readonly scopes: readonly string[];
  readonly error: TokenError;
  /** Which attempt failed, from 1. */
  readonly attempt: number;
  /** Delay before the next attempt, in milliseconds; callers without a valid token get `error` until then. */
  readonly nextDelayMs: number;
  /** Expiry of the token still being served, if any. */
  readonly servingTokenUntil?: Date;
}

/** Payload of the `fatalFailure` event: an answer retrying soon will not fix (bad credentials, scope, config). */
export interface FatalFailureEvent {
  readonly scopes: readonly string[];
  readonly error: TokenError;
  /**
   * How long the failure is remembered, in milliseconds: callers get `error` at once meanwhile, then
   * one request tries again. Doubles each time it recurs, up to `retry.fatalMaxTimeoutMs`;
   * `invalidate()` or a rotated credential file ends it at once.
   */
  readonly nextDelayMs: number;
}

/** Payload of the `sharedCacheFailed` event: the shared cache failed, and the manager fetched without it. */
export interface SharedCacheFailedEvent {
  readonly operation: SharedCacheOperation;
  /** The cache's error, of its own class with its plain fields (a `RedisTokenCacheError` with its `code`), its message and stack scrubbed of known secrets. */
  readonly error: Error;
}

/** The events a {@link TokenManager} emits. There is no `'error'` event, so no listener is required. */
export interface TokenManagerEvents {
  tokenIssued: [TokenIssuedEvent];
  refreshFailed: [RefreshFailedEvent];
  fatalFailure: [FatalFailureEvent];
  sharedCacheFailed: [SharedCacheFailedEvent];
}

/**
 * `node:diagnostics_channel` names on which the same payloads are published, for APM tools that
 * subscribe without a reference to the manager.
 */
export const diagnosticsChannels = {
  tokenIssued: 'grpc-oauth2-credentials:token-issued',
  refreshFailed: 'grpc-oauth2-credentials:refresh-failed',
  fatalFailure: 'grpc-oauth2-credentials:fatal-failure',
  sharedCacheFailed: 'grpc-oauth2-credentials:shared-cache-failed',
} as const;

/** The channels themselves, by event name. */
export const channels = {
  tokenIssued: channel(diagnosticsChannels.tokenIssued),
  refreshFailed: channel(diagnosticsChannels.refreshFailed),
  fatalFailure: channel(diagnosticsChannels.fatalFailure),
  sharedCacheFailed: channel(diagnosticsChannels.sharedCacheFailed),
};

/** Emits one event (and publishes it on its channel). */
export type Emit = <K extends keyof TokenManagerEvents>(event: K, payload: TokenManagerEvents[K][0]) => void;

/**
 * An {@link Emit} for `emitter` that no listener can break: whatever a listener or channel subscriber
 * throws (even `null`) becomes a process warning that names the event and the thrown value's type,
 * and the refresh machinery goes on.
 */
export function safeEmitter(emitter: { emit(event: string, payload: unknown): boolean }): Emit {
  return (event, payload) => {
    try {
      channels[event].publish(payload);
      emitter.emit(event, payload);
    } catch (err) {
      process.emitWarning(`grpc-oauth2-credentials: a '${event}' listener threw (${describeThrown(err)})`);
    }
  };
}

/** A failed attempt's event: `fatalFailure` for an answer retrying soon will not fix, else `refreshFailed`. */
export function emitFailure(emit: Emit, event: RefreshFailedEvent): void {
  const { scopes, error, nextDelayMs } = event;
  if (error.retryable) emit('refreshFailed', event);
  else emit('fatalFailure', { scopes, error, nextDelayMs });
}
