import { keepAliveFor, type Clock } from '../../common/clock.js';
import { TokenError } from '../errors.js';

/** How long one caller waits for the shared retry loop. */
export interface WaitLimits {
  /** The longest wait, in milliseconds, on `clock`. */
  readonly maxWaitMs: number;
  readonly clock: Clock;
}

/**
 * The shared promise, or a rejection once the caller's `signal` (an RPC's deadline or cancellation) aborts or `maxWaitMs` passes, whichever
 * comes first; the retry loop itself goes on for later callers. A caller who gives up on time gets
 * the loop's latest error (or a `timeout` when none came yet), so that an RPC without a deadline is
 * never held through a whole outage.
 */
export function waitFor<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  limits: WaitLimits,
  latestError: () => TokenError | undefined,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    const release = keepAliveFor(limits.clock, limits.maxWaitMs);
    const onAbort = (): void => {
      timer.clear();
      release();
      reject(abortedError(signal as AbortSignal));
    };
    const timer = limits.clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      release();
      reject(latestError() ?? waitedTooLongError(limits.maxWaitMs));
    }, limits.maxWaitMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise
      .finally(() => {
        timer.clear();
        release();
        signal?.removeEventListener('abort', onAbort);
      })
      .then(resolve, reject);
  });
}

/** The rejection for a caller whose signal had aborted. */
export function abortedError(signal: AbortSignal): TokenError {
  return new TokenError('aborted', 'stopped waiting for a token: the caller aborted', {
    retryable: true,
    cause: signal.reason,
  });
}

function waitedTooLongError(maxWaitMs: number): TokenError {
  return new TokenError('timeout', `no token within maxWaitMs (${maxWaitMs} ms); still trying in the background`, {
    retryable: true,
  });
}
