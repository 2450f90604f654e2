// The `jti`s of accepted DPoP proofs (RFC 9449 §11.1), each until its proof would be refused as too
// old anyway, with a cap on how many are held. Hand-written: a Map in insertion order is all it needs
// (the LRU libraries evict by use, and a replay check must not refresh an entry).

/** Default of `dpopReplayCacheSize`. */
export const defaultDpopReplayCacheSize = 100_000;

/** Remembers the proofs seen, each until a time, at most `capacity` of them. */
export class DpopReplayCache {
  /** Key (thumbprint and jti) to the time (ms) after which the proof is too old to be accepted. */
  readonly #seen = new Map<string, number>();

  /** @param capacity - most entries held; beyond it the oldest is forgotten. */
  constructor(readonly capacity: number) {}

  /** Entries held now. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Whether `key` is new: `true` (and remembered until `untilMs`) when it is not held or its time
   * passed, `false` for a replay. Drops the oldest entries whose time passed, then the oldest
   * beyond the cap: memory stays bounded whatever the rate of calls.
   */
  firstUse(key: string, untilMs: number, nowMs: number): boolean {
    const held = this.#seen.get(key);
    if (held !== undefined && held > nowMs) return false;
    this.#seen.delete(key);
    for (const [oldest, until] of this.#seen) {
      if (until > nowMs && this.#seen.size < this.capacity) break;
      this.#seen.delete(oldest);
    }
    this.#seen.set(key, untilMs);
    return true;
  }
}
