import type { Clock, TimerHandle } from '../common/clock.js';
import { AuthConfigError } from '../common/config-error.js';
import { describeType } from '../common/describe.js';

interface PendingTimer {
  readonly dueAt: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to, for deterministic tests of refresh and backoff.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
 * const tokens = new TokenManager({ ...options, clock });
 * await tokens.getToken();
 * await clock.advance(3_600_000); // fires the background refresh timer
 * ```
 */
export class ManualClock implements Clock {
  /** Monotonic time: timers are due on it. */
  #now: number;
  /** How far the wall clock was stepped away from the monotonic one by {@link ManualClock.stepWallClock}. */
  #wallOffsetMs = 0;
  #seq = 0;
  #timers = new Set<PendingTimer>();

  /**
   * @param startMs - the clock's initial time, in milliseconds since the epoch. Default `Date.now()`.
   * @throws AuthConfigError when `startMs` is not a finite number.
   */
  constructor(startMs: number = Date.now()) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) {
      throw new AuthConfigError(
        `ManualClock: startMs must be a finite number of milliseconds since the epoch, not ${Number.isNaN(startMs) ? 'NaN' : describeType(startMs)}`,
      );
    }
    this.#now = startMs;
  }

  /** The clock's wall time in milliseconds since the epoch. */
  now(): number {
    return this.#now + this.#wallOffsetMs;
  }

  /** The clock's monotonic time in milliseconds: it starts equal to `now()` and never steps. */
  monotonicNow(): number {
    return this.#now;
  }

  /**
   * Steps the wall clock (what `now()` reads) by `deltaMs`, back when negative, as an NTP correction
   * or an operator would; monotonic time and timers are unaffected.
   */
  stepWallClock(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  /** Schedules `callback` at `monotonicNow() + delayMs` of this clock. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { dueAt: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.add(timer);
    return { clear: () => this.#timers.delete(timer) };
  }

  /** How many timers are waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** The monotonic time at which the next timer fires, or `undefined` when none is set. */
  nextTimerAt(): number | undefined {
    return this.#next()?.dueAt;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way in order, and lets the
   * promise jobs each timer starts run before the next one fires.
   *
   * @throws AuthConfigError (as a rejection) when `ms` is not a finite number >= 0: monotonic time
   * never goes back (step the wall clock back with {@link ManualClock.stepWallClock}).
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new AuthConfigError('ManualClock: advance(ms) takes a finite number of milliseconds >= 0');
    const target = this.#now + ms;
    await settle();
    for (let timer = this.#next(); timer && timer.dueAt <= target; timer = this.#next()) {
      this.#timers.delete(timer);
      this.#now = Math.max(this.#now, timer.dueAt);
      timer.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Moves time to the next timer and fires it; returns false when no timer is set. */
  async runNext(): Promise<boolean> {
    const timer = this.#next();
    if (!timer) return false;
    await this.advance(timer.dueAt - this.#now);
    return true;
  }

  #next(): PendingTimer | undefined {
    let first: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (!first || timer.dueAt < first.dueAt || (timer.dueAt === first.dueAt && timer.seq < first.seq)) first = timer;
    }
    return first;
  }
}

/** Lets queued promise jobs and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
