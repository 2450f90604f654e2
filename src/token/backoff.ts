/** Backoff settings, as in p-retry: `retries` counts the tries after the first attempt. */
export interface RetryOptions {
  /** Tries after the first attempt. Default 5. */
  retries?: number;
  /** Delay before the first retry, in milliseconds, before jitter. Default 200. */
  minTimeoutMs?: number;
  /** Longest delay between attempts, in milliseconds; also caps `Retry-After`. Default 30000. */
  maxTimeoutMs?: number;
}

/** {@link RetryOptions} with every default filled in. */
export type ResolvedRetryOptions = Required<RetryOptions>;

export const defaultRetryOptions: ResolvedRetryOptions = { retries: 5, minTimeoutMs: 200, maxTimeoutMs: 30_000 };

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
