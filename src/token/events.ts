import { channel } from 'node:diagnostics_channel';
import type { TokenError } from './errors.js';

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

/** Payload of the `fatalFailure` event: an answer retrying will not fix (bad credentials, scope, config). */
export interface FatalFailureEvent {
  readonly scopes: readonly string[];
  readonly error: TokenError;
}

/** The events a {@link TokenManager} emits. There is no `'error'` event, so no listener is required. */
export interface TokenManagerEvents {
  tokenIssued: [TokenIssuedEvent];
  refreshFailed: [RefreshFailedEvent];
  fatalFailure: [FatalFailureEvent];
}

/**
 * `node:diagnostics_channel` names on which the same payloads are published, for APM tools that
 * subscribe without a reference to the manager.
 */
export const diagnosticsChannels = {
  tokenIssued: 'grpc-oauth2-credentials:token-issued',
  refreshFailed: 'grpc-oauth2-credentials:refresh-failed',
  fatalFailure: 'grpc-oauth2-credentials:fatal-failure',
} as const;

export const channels = {
  tokenIssued: channel(diagnosticsChannels.tokenIssued),
  refreshFailed: channel(diagnosticsChannels.refreshFailed),
  fatalFailure: channel(diagnosticsChannels.fatalFailure),
};
