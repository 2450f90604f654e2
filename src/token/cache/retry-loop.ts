import pRetry, { type RetryContext } from 'p-retry';
import type { TokenError } from '../errors.js';

/**
 * Runs `attempt` until it succeeds, fails fatally (a `TokenError` that is not retryable), the retries
 * run out or `signal` aborts; p-retry counts the attempts. `onFailedAttempt` runs after every failed
 * attempt, the last one included, and the next attempt starts when it resolves: that is where the
 * backoff is waited out. p-retry's own delay runs on real timers, not on the injected clock, so it is
 * zero here; the one backoff is computed in backoff.ts (through the endpoint gate for retryable
 * failures).
 */
export function retryLoop<T>(
  attempt: () => Promise<T>,
  options: {
    readonly retries: number;
    readonly signal: AbortSignal;
    readonly onFailedAttempt: (context: RetryContext) => Promise<void>;
  },
): Promise<T> {
  return pRetry(attempt, {
    retries: options.retries,
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    signal: options.signal,
    onFailedAttempt: options.onFailedAttempt,
    shouldRetry: ({ error }) => (error as TokenError).retryable,
  });
}
