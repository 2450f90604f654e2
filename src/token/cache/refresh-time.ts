import type { AccessToken } from '../access-token.js';
import { monotonicNow, type Clock } from '../../common/clock.js';

/** The largest share of the refresh margin by which each token's refresh is moved earlier at random. */
const refreshSpreadFraction = 0.1;

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

/** A token as a scope set holds it, with its times in monotonic ms (see `Clock.monotonicNow`). */
export interface HeldToken {
  readonly token: AccessToken;
  /** When it arrived (its age at use is counted from here). */
  readonly issuedAtMs: number;
  /** When it stops being usable. */
  readonly expiresAtMs: number;
  /** When it should be replaced in the background. */
  readonly refreshAtMs: number;
  /** Its lifetime when it arrived, in ms, and its refresh time on the wall clock (for the `tokenIssued` event). */
  readonly lifetimeMs: number;
  readonly refreshAt: Date;
}

/**
 * `token`, arrived now, with its expiry moved to the monotonic clock: a wall-clock step never makes
 * it outlive its real lifetime.
 */
export function holdToken(token: AccessToken, clock: Clock, refreshBeforeExpiryMs: number): HeldToken {
  const issuedAtMs = monotonicNow(clock);
  const lifetimeMs = token.expiresAt.getTime() - clock.now();
  const expiresAtMs = issuedAtMs + lifetimeMs;
  const refreshAt = refreshAtMs(issuedAtMs, expiresAtMs, refreshBeforeExpiryMs);
  const refreshAtWall = new Date(token.expiresAt.getTime() - (expiresAtMs - refreshAt));
  return { token, issuedAtMs, expiresAtMs, refreshAtMs: refreshAt, lifetimeMs, refreshAt: refreshAtWall };
}
