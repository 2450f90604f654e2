/**
 * Backoff settings. The first three are as in p-retry (`retries` counts the tries after the first
 * attempt); the `fatal` ones space out the rare new tries after an answer that retrying soon will not
 * fix (`invalid_client`, `invalid_scope`, a proxy's 403 page).
 */
export interface RetryOptions {
  /** Tries after the first attempt. Default 5. */
  retries?: number;
  /** Delay before the first retry, in milliseconds, before jitter. Default 200. */
  minTimeoutMs?: number;
  /** Longest delay between attempts, in milliseconds; also caps `Retry-After`. Default 30000. */
  maxTimeoutMs?: number;
  /** How long a fatal failure is remembered the first time, in milliseconds. Default 60000 (1 min). */
  fatalMinTimeoutMs?: number;
  /** Longest a recurring fatal failure is remembered (the wait doubles each time), in milliseconds. Default 900000 (15 min). */
  fatalMaxTimeoutMs?: number;
}

/** {@link RetryOptions} with every default filled in. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** The defaults of {@link RetryOptions}, and the one list of its names. */
export const defaultRetryOptions: ResolvedRetryOptions = {
  retries: 5,
  minTimeoutMs: 200,
  maxTimeoutMs: 30_000,
  fatalMinTimeoutMs: 60_000,
  fatalMaxTimeoutMs: 900_000,
};

/**
 * The delay before retry number `retriesConsumed + 1`.
 *
 * Written here rather than left to p-retry because p-retry 7 draws its random factor before applying
 * `maxTimeout`: once the exponential curve reaches the cap, every client waits exactly `maxTimeout`
 * and a fleet that failed together retries together. Here the jitter is drawn after the cap ("equal
 * jitter": between half and all of the capped delay), so delays stay spread at the cap too.
 *
 * A `Retry-After` the server sent is a floor (never retry sooner), capped at `maxTimeoutMs`, with
 * jitter above it; when the cap cuts it, the delay falls in the top tenth below the cap.
 */
export function retryDelayMs(
  retriesConsumed: number,
  options: ResolvedRetryOptions,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const { minTimeoutMs, maxTimeoutMs } = options;
  const base = Math.min(maxTimeoutMs, minTimeoutMs * 2 ** retriesConsumed);
  const jittered = base / 2 + random() * (base / 2);
  if (retryAfterMs === undefined) return Math.round(jittered);
  if (retryAfterMs >= maxTimeoutMs) return Math.round(maxTimeoutMs * (0.9 + 0.1 * random()));
  return Math.round(Math.min(maxTimeoutMs, Math.max(jittered, retryAfterMs + random() * (base / 2))));
}

/**
 * How long fatal failure number `fatalStreak` (from 1) in a row is remembered: `fatalMinTimeoutMs`,
 * doubling each time up to `fatalMaxTimeoutMs`, less up to a tenth at random so that a fleet that
 * failed together does not try again together.
 */
export function fatalDelayMs(
  fatalStreak: number,
  options: ResolvedRetryOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.fatalMaxTimeoutMs, options.fatalMinTimeoutMs * 2 ** Math.max(0, fatalStreak - 1));
  return Math.round(base * (0.9 + 0.1 * random()));
}

/**
 * A `Retry-After` header value (delay in seconds or an HTTP date, RFC 9110 §10.2.3) in milliseconds
 * from `nowMs`, or `undefined` when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
