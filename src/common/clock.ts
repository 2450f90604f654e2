import { setMaxListeners } from 'node:events';

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
  /** Wall-clock time, in milliseconds since the epoch (for `Date`s and the token server's clock). */
  now(): number;
  /**
   * Milliseconds on a clock that never steps back (the system clock uses `performance.now()`). Token
   * lifetimes are measured on it, so that setting the wall clock back never makes a cached token
   * outlive its real lifetime. Optional: without it, `now()` is used.
   */
  monotonicNow?(): number;
  /**
   * Calls `callback` after `delayMs` milliseconds. The timer must not keep the process alive
   * (the system clock `unref()`s it).
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
}

/** The real clock: `Date.now()`, `performance.now()` and unref'd `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicNow: () => performance.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { clear: () => clearTimeout(timer) };
  },
};

/** `clock`'s monotonic time, or its wall time when it has no monotonic one. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonicNow?.() ?? clock.now();
}

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

/**
 * An AbortController whose signal may have any number of listeners: every scope set backing off at
 * once sleeps on the one close signal, and Node warns (MaxListenersExceededWarning) past ten.
 */
export function manyListenerController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * `promise`, or a rejection with `timedOut()` once `timeoutMs` has passed on `clock`, whichever comes
 * first. For calls that may never settle (a user's function): the caller goes on, and a late answer is
 * dropped.
 */
export function within<T>(promise: Promise<T>, clock: Clock, timeoutMs: number, timedOut: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(timedOut()), timeoutMs);
    promise.finally(() => timer.clear()).then(resolve, reject);
  });
}

/**
 * Keeps the process alive for at most `ms` milliseconds, or until the returned function is called:
 * while a caller waits for a token, the retry timers it waits on are unref'd (a manager never keeps a
 * process alive by itself), so a script whose only work is that wait would otherwise end with
 * "unsettled top-level await" before its catch runs. Only for the system clock: an injected clock's
 * time is its owner's to move.
 */
export function keepAliveFor(clock: Clock, ms: number): () => void {
  if (clock !== systemClock) return () => undefined;
  // A second past `ms`: the caller's own deadline timer of `ms` (unref'd, on the clock) may fire a
  // little after this one on a busy machine, and the process must still be alive when it does
  // (seen: exit 13 with the two timers due together). The caller releases it as soon as it settles.
  const timer = setTimeout(() => undefined, ms + 1_000);
  return () => clearTimeout(timer);
}
