// A timer for a wall-clock instant (a token's exp), however far ahead.
import type { Clock, TimerHandle } from '../common/clock.js';

/** Node's setTimeout fires at once (with a warning) past this many milliseconds, about 24.8 days. */
const maxDelayMs = 2 ** 31 - 1;

/**
 * Calls `callback` once `clock.now()` reaches `dueAtMs`, never synchronously. The delay is capped
 * and re-checked on each firing, so a token valid for months or a wall clock stepped back does not
 * end a stream early.
 */
export function atWallTime(clock: Clock, dueAtMs: number, callback: () => void): TimerHandle {
  let timer: TimerHandle | undefined;
  let cleared = false;
  const arm = (): void => {
    const delayMs = dueAtMs - clock.now();
    if (delayMs <= 0 && timer !== undefined) return callback();
    timer = clock.setTimeout(
      () => {
        if (!cleared) arm();
      },
      Math.min(Math.max(delayMs, 0), maxDelayMs),
    );
  };
  arm();
  return {
    clear() {
      cleared = true;
      timer?.clear();
    },
  };
}
