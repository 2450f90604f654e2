// Seeded random numbers for the soak: every random choice of a run comes from one seed, so the same
// seed gives the same run.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/** Largest seed: xoroshiro128+ is seeded from a 32-bit integer. */
export const maxSeed = 2 ** 32 - 1;

/** A stream of random numbers from xoroshiro128+ (pure-rand). */
export class Random {
  readonly #rng: JumpableRandomGenerator;

  private constructor(rng: JumpableRandomGenerator) {
    this.#rng = rng;
  }

  /** The first stream of `seed` (an integer from 0 to {@link maxSeed}). */
  static fromSeed(seed: number): Random {
    return new Random(xoroshiro128plus(seed));
  }

  /**
   * A stream independent of this one and of those split before: the generator jumped 2^64 draws
   * ahead. Each part of the soak draws from a stream of its own, so that how often one part draws
   * (the SDK's jitter, say) never shifts what another part draws (the fault schedule).
   */
  split(): Random {
    this.#rng.jump();
    return new Random(this.#rng.clone());
  }

  /** A number in [0, 1), as `Math.random()` gives. */
  next(): number {
    return uniformFloat64(this.#rng);
  }

  /** A number in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** An integer from `min` to `max`, both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Whether an event of probability `p` happened. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of `items`, each as likely. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A number from `min` to `max` whose logarithm is uniform: each order of magnitude as likely. */
  logUniform(min: number, max: number): number {
    return Math.exp(this.between(Math.log(min), Math.log(max)));
  }

  /** The time to the next event of a Poisson process with mean interval `meanMs`, in whole ms (at least 1). */
  exponentialMs(meanMs: number): number {
    return Math.max(1, Math.round(-meanMs * Math.log(1 - this.next())));
  }
}

/**
 * Runs `body` with `Math.random` drawing from `random`, and puts it back after. The SDK draws its
 * jitter (refresh spread, backoff) from `Math.random`, and the soak has no business adding an option
 * to the public API for that: replacing `Math.random` for the length of a run is what makes the
 * SDK's draws part of the seeded run. Nothing else in the process draws from `Math.random` during a
 * run (the token server runs in a worker thread, which has its own).
 */
export async function withMathRandom<T>(random: Random, body: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = () => random.next();
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}
