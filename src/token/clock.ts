/** Handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  /** Stops the timer if it has not fired. */
  clear(): void;
}

/**
 * Where the token side reads time and sets timers. Production uses {@link systemClock}; tests inject a
 * manual clock (`ManualClock` from `grpc-oauth2-credentials/testing`) so refresh and backoff need no sleeps.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `callback` after `delayMs` milliseconds. The timer must not keep the process alive
   * (the system clock `unref()`s it).
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
}

/** The real clock: `Date.now()` and unref'd `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { clear: () => clearTimeout(timer) };
  },
};

/**
 * Resolves after `delayMs` on `clock`, or rejects with the signal's reason when it aborts first.
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      timer.clear();
      reject(signal?.reason as Error);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
