// Seeded draws for the fleet soak's fault schedule. Hand-written (mulberry32, a dozen lines) rather
// than a dependency: the bench needs only uniform draws that a seed reproduces, nothing a library adds.

/** A generator of uniform draws in [0, 1), the same sequence for the same seed. */
export type Random = () => number;

/** mulberry32: a 32-bit state, full period, good enough for schedules (not for cryptography). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A generator of its own for one purpose, so that drawing more for one kind of fault shifts no other. */
export function substream(seed: number, purpose: number): Random {
  return seededRandom(Math.imul(seed ^ 0x9e3779b9, 31) + purpose * 0x85ebca6b);
}

/** A draw in [min, max). */
export function between(random: Random, min: number, max: number): number {
  return min + random() * (max - min);
}

/** One of `choices`, each as likely. */
export function pick<T>(random: Random, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)] as T;
}
