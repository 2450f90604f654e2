import { describeThrown } from '../../common/describe.js';
import { monotonicNow, type Clock, type TimerHandle } from '../../common/clock.js';

/** The longest delay a Node timer takes without overflowing. */
const maxTimerDelayMs = 2_147_483_647;

/**
 * Runs `onDue` once `clock`'s monotonic time reaches `dueAtMs`. Timers are re-armed rather than
 * trusted: Node fires a timer a little early at times, and a delay above 2^31-1 ms (24.8 days, well
 * within a year-long token) overflows to 1 ms, which would refresh in a loop. Nothing `onDue` throws
 * leaves the timer: it is reported as a process warning instead of crashing the host.
 */
export function setRefreshTimer(clock: Clock, dueAtMs: number, onDue: () => void): TimerHandle {
  let current: TimerHandle;
  const arm = (): void => {
    const remainingMs = dueAtMs - monotonicNow(clock);
    current = clock.setTimeout(
      () => {
        if (monotonicNow(clock) < dueAtMs) {
          arm();
          return;
        }
        try {
          onDue();
        } catch (err) {
          process.emitWarning(`grpc-oauth2-credentials: refresh timer failed: ${describeThrown(err)}`);
        }
      },
      Math.min(Math.max(0, remainingMs), maxTimerDelayMs),
    );
  };
  arm();
  return { clear: () => current.clear() };
}

/** A scope set's one timer: setting it replaces the one before. */
export class RefreshTimer {
  readonly #clock: Clock;
  #current: TimerHandle | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Runs `onDue` at `dueAtMs` (monotonic), instead of whatever was set before. */
  set(dueAtMs: number, onDue: () => void): void {
    this.clear();
    this.#current = setRefreshTimer(this.#clock, dueAtMs, () => {
      this.#current = undefined;
      onDue();
    });
  }

  clear(): void {
    this.#current?.clear();
    this.#current = undefined;
  }
}
