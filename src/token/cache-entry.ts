import type { AccessToken } from './access-token.js';
import type { TokenError } from './errors.js';
import type { TimerHandle } from '../common/clock.js';
import type { TokenRequest } from './token-source.js';

/** A failure that callers share until `untilMs` instead of each sending a request. */
export interface RememberedFailure {
  readonly error: TokenError;
  /** Until when (monotonic ms) callers without a usable token get `error` at once. */
  readonly untilMs: number;
  /** An answer retrying soon will not fix: remembered for minutes, not for a backoff delay. */
  readonly fatal: boolean;
}

/**
 * One scope set's token and the state of getting the next one. Times are in milliseconds on the
 * manager's monotonic clock (see `Clock.monotonicNow`), never the wall clock.
 */
export interface CacheEntry {
  /** The scopes, sorted and joined by spaces. */
  readonly key: string;
  readonly request: Omit<TokenRequest, 'signal'>;
  token: AccessToken | undefined;
  /** When `token` arrived (its age at use is counted from here). */
  issuedAtMs: number;
  /** When `token` stops being usable. */
  expiresAtMs: number;
  /** When `token` should be replaced in the background. */
  refreshAtMs: number;
  /** Set by every use; cleared when the refresh timer fires, so idle scope sets stop refreshing. */
  usedSinceTimer: boolean;
  /** The shared retry loop, while one runs. */
  inflight: Promise<AccessToken> | undefined;
  failure: RememberedFailure | undefined;
  /** The latest failure of the retry loop running now, for callers who stop waiting before it ends. */
  latestError: TokenError | undefined;
  /**
   * Failed attempts since the last token, across retry loops: an outage longer than one loop keeps
   * backing off instead of starting again from the shortest delay.
   */
  failureStreak: number;
  /** Fatal failures in a row, for the doubling wait between them. */
  fatalStreak: number;
  /** The token `invalidate(token)` dropped last: a shared cache may still hold it, and must not serve it back. */
  rejectedAccessToken: string | undefined;
  /** When an `invalidate(token)` last dropped this entry's token (forced refreshes are rate-limited). */
  forcedRefreshAtMs: number;
  timer: TimerHandle | undefined;
}

/** A new, empty entry for `request`. */
export function createCacheEntry(key: string, request: Omit<TokenRequest, 'signal'>): CacheEntry {
  return {
    key,
    request,
    token: undefined,
    issuedAtMs: 0,
    expiresAtMs: 0,
    refreshAtMs: 0,
    usedSinceTimer: false,
    inflight: undefined,
    failure: undefined,
    latestError: undefined,
    failureStreak: 0,
    fatalStreak: 0,
    rejectedAccessToken: undefined,
    forcedRefreshAtMs: -Infinity,
    timer: undefined,
  };
}
