/*
 * The refresh policy, in three rules, as pure functions of (entry, now):
 * - No usable token and no remembered failure: callers must wait, and share one request.
 * - A usable token past its refresh time: serve it, and refresh in the background.
 * - Otherwise: serve the cached token, or the remembered failure until its time is up.
 * A timer applies the second rule to a manager in use between calls. Times are monotonic ms.
 */
import type { CacheEntry } from './cache-entry.js';

/** The largest share of the refresh margin by which each token's refresh is moved earlier at random. */
const refreshSpreadFraction = 0.1;

/** Shortest time between two forced refreshes (`invalidate(token)`) of one scope set, in ms. */
export const forcedRefreshIntervalMs = 30_000;

/** A token is cached and has not expired. */
export function isUsable(entry: CacheEntry, now: number): boolean {
  return entry.token !== undefined && now < entry.expiresAtMs;
}

/** A retry loop for this scope set is running. */
export function isRefreshing(entry: CacheEntry): boolean {
  return entry.inflight !== undefined;
}

/** A failure is remembered: callers without a usable token get it at once, and nothing is sent. */
export function isBackingOff(entry: CacheEntry, now: number): boolean {
  return entry.failure !== undefined && now < entry.failure.untilMs;
}

/** The remembered failure is fatal (bad credentials, scope or configuration). */
export function isFatal(entry: CacheEntry, now: number): boolean {
  return isBackingOff(entry, now) && entry.failure?.fatal === true;
}

/** Rule 2: serve the usable token and start a background refresh. */
export function shouldRefresh(entry: CacheEntry, now: number): boolean {
  return isUsable(entry, now) && now >= entry.refreshAtMs && !isRefreshing(entry) && !isBackingOff(entry, now);
}

/** Rule 1: the caller has to wait for the network. */
export function mustWait(entry: CacheEntry, now: number): boolean {
  return !isUsable(entry, now) && !isBackingOff(entry, now);
}

/** `invalidate(token)` may drop the token now: at most one forced refresh per scope set per interval. */
export function mayForceRefresh(entry: CacheEntry, now: number): boolean {
  return now - entry.forcedRefreshAtMs >= forcedRefreshIntervalMs;
}

/**
 * When to refresh a token issued at `issuedAtMs`: `refreshBeforeExpiryMs` before expiry, moved
 * earlier by a random spread of up to 10% of that margin; never before half its lifetime, so a
 * token that lives shorter than the margin refreshes at half-life instead of in a loop.
 */
export function refreshAtMs(
  issuedAtMs: number,
  expiresAtMs: number,
  refreshBeforeExpiryMs: number,
  random: () => number = Math.random,
): number {
  const spreadMs = random() * refreshSpreadFraction * refreshBeforeExpiryMs;
  const halfLife = issuedAtMs + (expiresAtMs - issuedAtMs) / 2;
  return Math.floor(Math.max(expiresAtMs - refreshBeforeExpiryMs - spreadMs, halfLife));
}

/**
 * The earliest time {@link refreshAtMs} can give for this token (its largest spread): any process
 * holding the token refreshes it at or after this moment, so a shared entry past it is due.
 */
export function earliestRefreshAtMs(issuedAtMs: number, expiresAtMs: number, refreshBeforeExpiryMs: number): number {
  return refreshAtMs(issuedAtMs, expiresAtMs, refreshBeforeExpiryMs, () => 1);
}
