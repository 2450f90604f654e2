import type { ManualClock } from '../../src/testing/index.js';

/** Timers due within this much (manual) time are the shared cache's polls, not refreshes or waits. */
const pollHorizonMs = 1_000;

/**
 * Lets managers that wait for another's shared-cache entry make progress on a manual clock: each
 * round lets loopback I/O run (a real millisecond), then fires the next timer due within
 * `horizonMs` (by default only polls; a longer horizon fires refresh timers too). Stops once
 * `done()` holds; fails after `limitMs` of real time. `quiet` replaces the real millisecond with a
 * wait for what is in flight (token requests, Redis commands), for scenes where a timer fired during
 * I/O would change the outcome. Managers under it should have a long `requestTimeoutMs` and
 * `maxWaitMs` (a waiter waits for another's lock a quarter of `maxWaitMs`, at most `requestTimeoutMs`
 * + 1 s, on this clock), so that a busy machine cannot make a waiter give up while the holder's
 * request is in flight.
 */
export async function pollUntil(
  clock: ManualClock,
  done: () => boolean,
  horizonMs = pollHorizonMs,
  limitMs = 10_000,
  quiet: () => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, 1)),
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('managers did not settle in time');
    await quiet();
    const next = clock.nextTimerAt();
    if (next !== undefined && next - clock.monotonicNow() <= horizonMs)
      await clock.advance(next - clock.monotonicNow());
  }
}

/** `promises`, settled with {@link pollUntil}. */
export async function settleAll<T>(clock: ManualClock, promises: readonly Promise<T>[]): Promise<T[]> {
  let settled = 0;
  for (const promise of promises)
    promise.then(
      () => settled++,
      () => settled++,
    );
  await pollUntil(clock, () => settled === promises.length);
  return Promise.all(promises);
}
