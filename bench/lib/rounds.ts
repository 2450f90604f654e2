// Side-by-side measurement on a shared, noisy machine: every variant runs once per round, in an order
// that changes from round to round, so that drift (another process starting, CPU frequency, GC debt
// left by the variant before) falls on each variant alike instead of on whichever always runs last.

/** Takes one measurement. */
export type Measure<T = number> = () => Promise<T>;

/**
 * The order of round `round` for `n` variants: a Williams design, in which over n rounds (2n for an
 * odd n) every variant runs in every position equally often and follows every other variant equally
 * often, so neither position nor the previous variant's leftovers favour one.
 */
export function roundOrder(n: number, round: number): number[] {
  const first: number[] = [0];
  for (let low = 1, high = n - 1; first.length < n;) first.push(first.length % 2 === 1 ? low++ : high--);
  const order = first.map((variant) => (variant + round) % n);
  return n % 2 === 1 && Math.floor(round / n) % 2 === 1 ? order.reverse() : order;
}

/**
 * Runs each variant `rounds` times, interleaved in the order of {@link roundOrder}. Returns each
 * variant's measurements in round order, so that per-round ratios pair measurements taken moments
 * apart.
 */
export async function alternate<K extends string, T = number>(
  rounds: number,
  variants: Readonly<Record<K, Measure<T>>>,
): Promise<Record<K, T[]>> {
  const names = Object.keys(variants) as K[];
  const results = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (const index of roundOrder(names.length, round)) {
      const name = names[index]!;
      results[name].push(await variants[name]());
    }
  }
  return results;
}

/** {@link alternate} over the variants `names`, each measured by `measure(name)`. */
export function alternateEach<K extends string, T>(
  rounds: number,
  names: readonly K[],
  measure: (name: K) => Promise<T>,
): Promise<Record<K, T[]>> {
  return alternate(
    rounds,
    Object.fromEntries(names.map((name) => [name, () => measure(name)])) as Record<K, Measure<T>>,
  );
}
