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
   *
   * @throws RangeError when `deltaMs` is not a finite number (NaN would make `now()` NaN); the clock is unchanged.
   */
  stepWallClock(deltaMs: number): void {
    if (typeof deltaMs !== 'number' || !Number.isFinite(deltaMs))
      throw new RangeError(`ManualClock.stepWallClock: deltaMs must be a finite number, got ${describeStep(deltaMs)}`);
    this.#wallOffsetMs += deltaMs;
  }

  /**
   * Schedules `callback` at `monotonicNow() + delayMs` of this clock. A negative or NaN delay counts as 0
   * (due on the next `advance()`), as Node's own `setTimeout` fires such a timer at once.
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { dueAt: this.#now + (delayMs > 0 ? delayMs : 0), seq: this.#seq++, callback };
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
   * @param ms - how far, in milliseconds: a finite number >= 0.
   * @throws RangeError (as a rejection) for a negative or non-finite `ms`: time never moves back (use
   * {@link ManualClock.stepWallClock} for a wall-clock step) and never becomes NaN. The clock is unchanged.
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new RangeError(`ManualClock.advance: ms must be a finite number >= 0, got ${describeStep(ms)}`);
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

/** A bad step for a message: numbers as they are (no secret lives in a clock step), else only the type. */
function describeStep(value: unknown): string {
  return typeof value === 'number' ? String(value) : describeType(value);
}

/** Lets queued promise jobs and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
