// Tokens already verified, so a busy server does not check the same signature on every call.
import { hash } from 'node:crypto';
import type { JWTPayload } from 'jose';

/** Default of `maxCachedTokens`: a few MB at most, and far more callers than a server usually has. */
export const defaultMaxCachedTokens = 10_000;

/** What verified a token: a key set, whose generation grows with every fetch. */
export interface KeyGeneration {
  readonly generation: number;
}

interface Entry {
  readonly claims: Readonly<JWTPayload>;
  /** Wall-clock milliseconds after which the entry is not used (see {@link VerifiedTokenCache.set}). */
  readonly validUntilMs: number;
  /** The key set whose key verified the token, and its generation then. */
  readonly keys: KeyGeneration;
  readonly keysGeneration: number;
}

/**
 * Verified claims keyed by the SHA-256 of the token (the token itself is never kept), each until
 * `validUntilMs` and while the key set is the one that verified it, at most `maxEntries` of them:
 * when full, the entry used least recently goes. A `Map` keeps insertion order, so re-inserting on a
 * hit makes it an LRU list.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  /** The key of the entry at the end of the map (the most recently used). */
  #newest: string | undefined;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The key of `token`. */
  static keyOf(token: string): string {
    // The one-shot hash (Node 20.12+): no Hash object per call.
    return hash('sha256', token, 'base64url');
  }

  /**
   * The claims of a token verified before, still valid at `nowMs`, by a key of its key set's current
   * generation (after a refetch the token is verified again, so that a key that left the set takes
   * its verifications with it); else `undefined`. Tokens of every issuer share the cache: each entry
   * knows its own key set.
   */
  get(key: string, nowMs: number): Readonly<JWTPayload> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (nowMs >= entry.validUntilMs || entry.keys.generation !== entry.keysGeneration) {
      this.#entries.delete(key);
      return undefined;
    }
    // Least recently used goes first: move the entry to the end, unless it is there already (a
    // server busy with one caller's token would otherwise delete and re-insert it on every call).
    if (key !== this.#newest) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    return entry.claims;
  }

  /** Remembers `claims`, verified by a key of `keys` at generation `keysGeneration`, until `validUntilMs`. */
  set(
    key: string,
    claims: Readonly<JWTPayload>,
    validUntilMs: number,
    keys: KeyGeneration,
    keysGeneration: number,
  ): void {
    if (this.#maxEntries === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { claims, validUntilMs, keys, keysGeneration });
    this.#newest = key;
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** How many tokens are cached. */
  get size(): number {
    return this.#entries.size;
  }
}
