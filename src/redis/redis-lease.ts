import { randomUUID } from 'node:crypto';
import { RedisTokenCacheError } from './errors.js';
import { debug, type RedisCommands } from './redis-commands.js';

/** The shortest lease of a lock, in milliseconds: how soon the lock of a holder that died is free again. */
const minLeaseMs = 750;

/**
 * How long each lease of a lock lasts, in milliseconds: {@link minLeaseMs}, or three times the
 * command timeout if that is longer, so that a renewal sent every third of the lease has the time of
 * a whole command to arrive before the lease runs out.
 */
export function leaseMsFor(commandTimeoutMs: number): number {
  return Math.max(minLeaseMs, 3 * commandTimeoutMs);
}

/**
 * Takes the lock `lockKey` for at most `holdMs` milliseconds, as a lease of `leaseMs` that this
 * process renews every third of a lease while it holds the lock. A holder that dies, or loses its
 * Redis connection, stops renewing, so its lock is free again within one lease; a live holder whose
 * request is slow keeps it, up to `holdMs`. Resolves with the release, or `undefined` when another
 * process holds the lock.
 *
 * The lease runs on real timers (`performance.now()`, unref'd `setTimeout`), not on the manager's
 * clock: Redis counts the key's expiry in real time.
 */
export async function takeLease(
  commands: RedisCommands,
  lockKey: string,
  holdMs: number,
  leaseMs: number,
): Promise<(() => Promise<void>) | undefined> {
  const lease = new Lease(commands, lockKey, holdMs, leaseMs);
  return (await lease.take()) ? () => lease.release() : undefined;
}

class Lease {
  readonly #commands: RedisCommands;
  readonly #key: string;
  readonly #owner = randomUUID();
  readonly #leaseMs: number;
  /** When (`performance.now()`) the holder's time is up: no renewal goes past it. */
  readonly #holdUntil: number;
  /** Until when the lock surely holds, as the last command that set its expiry tells. */
  #heldUntil: number;
  #timer: NodeJS.Timeout | undefined;
  #released = false;

  constructor(commands: RedisCommands, key: string, holdMs: number, leaseMs: number) {
    this.#commands = commands;
    this.#key = key;
    this.#leaseMs = leaseMs;
    this.#holdUntil = performance.now() + holdMs;
    this.#heldUntil = performance.now();
  }

  /** Takes the lock (`SET NX PX`): whether this process holds it now. */
  async take(): Promise<boolean> {
    const sentAt = performance.now();
    const ttlMs = this.#nextTtlMs(sentAt);
    if (!(await this.#commands.takeLock(this.#key, this.#owner, ttlMs))) return false;
    this.#heldUntil = sentAt + ttlMs;
    this.#schedule();
    return true;
  }

  /**
   * Releases the lock (compare-and-delete) and stops renewing it; a second call does nothing.
   * Rejects with `lock_lost` when the lock had run out, since another process may have fetched too.
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    if (!(await this.#commands.deleteIfEqual(this.#key, this.#owner))) {
      throw new RedisTokenCacheError(
        'lock_lost',
        `redis lock ${this.#key} ran out before its holder released it; another process may have fetched a token too`,
      );
    }
  }

  #nextTtlMs(now: number): number {
    return Math.max(1, Math.ceil(Math.min(this.#leaseMs, this.#holdUntil - now)));
  }

  #schedule(): void {
    if (this.#released) return;
    this.#timer = setTimeout(() => void this.#renew(), this.#leaseMs / 3);
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    if (this.#released || sentAt >= this.#holdUntil) return;
    const ttlMs = this.#nextTtlMs(sentAt);
    try {
      // false: the lock ran out and may be another's now; the release reports it.
      if (!(await this.#commands.renewLock(this.#key, this.#owner, ttlMs))) return;
      this.#heldUntil = sentAt + ttlMs;
    } catch (error) {
      debug('renewing lock %s failed: %s', this.#key, (error as Error).message);
      // A late answer may still have renewed it: go on while the lease can hold.
      if (performance.now() >= this.#heldUntil) return;
    }
    this.#schedule();
  }
}
