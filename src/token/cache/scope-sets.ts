import { normalizeScopes } from '../scopes.js';
import type { TokenRequest } from '../token-source.js';
import { ScopeSetCycler, type CyclerContext } from './scope-set-cycler.js';

/**
 * Most scope sets held at once. Past it, the least recently used one (with its token, timer and any
 * remembered failure) is dropped, so a caller cycling through scope sets cannot grow the heap.
 */
export const maxScopeSets = 1_000;

/**
 * The scope sets of a TokenManager, one {@link ScopeSetCycler} each, in least-recently-used order (a Map keeps
 * insertion order; a use re-inserts). The configured scope set is never evicted, and neither is one
 * whose token is being fetched.
 */
export class ScopeSets {
  readonly #entries = new Map<string, ScopeSetCycler>();
  /** Scope arrays seen before, mapped to their cache key, so a caller reusing an array skips sorting. */
  readonly #keysByScopes = new WeakMap<readonly string[], string>();
  readonly #request: Omit<TokenRequest, 'signal' | 'scopes'>;
  readonly #context: CyclerContext;
  /** The scope set of the configured scopes. */
  readonly default: ScopeSetCycler;

  constructor(
    defaultScopes: readonly string[],
    request: Omit<TokenRequest, 'signal' | 'scopes'>,
    context: CyclerContext,
  ) {
    this.#request = request;
    this.#context = context;
    this.default = this.#entryForKey(defaultScopes);
  }

  /** How many scope sets are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every entry, least recently used first. */
  values(): IterableIterator<ScopeSetCycler> {
    return this.#entries.values();
  }

  /** The entry for `scopes` (any order, checked), created when new. */
  entryFor(scopes: readonly string[], what: string): ScopeSetCycler {
    const known = this.#keysByScopes.get(scopes);
    const entry = known === undefined ? undefined : this.#entries.get(known);
    if (entry !== undefined) return this.#used(entry);
    const normalized = normalizeScopes(scopes, what);
    if (Object.isFrozen(scopes)) this.#keysByScopes.set(scopes, normalized.join(' '));
    return this.#entryForKey(normalized);
  }

  /** Drops a scope set with its timer, unless it is the configured one or being fetched. */
  evict(entry: ScopeSetCycler): void {
    if (entry === this.default || entry.isRefreshing) return;
    entry.dispose();
    this.#entries.delete(entry.key);
  }

  /** Stops every timer and forgets every entry. */
  clear(): void {
    for (const entry of this.#entries.values()) entry.dispose();
    this.#entries.clear();
  }

  #entryForKey(scopes: readonly string[]): ScopeSetCycler {
    const key = scopes.join(' ');
    const existing = this.#entries.get(key);
    if (existing !== undefined) return this.#used(existing);
    const entry = new ScopeSetCycler(key, { ...this.#request, scopes }, this.#context);
    this.#entries.set(key, entry);
    if (this.#entries.size > maxScopeSets) this.#evictLeastRecentlyUsed();
    return entry;
  }

  /** Moves `entry` to the most recently used end (eviction takes the other end). */
  #used(entry: ScopeSetCycler): ScopeSetCycler {
    if (entry !== this.default) {
      this.#entries.delete(entry.key);
      this.#entries.set(entry.key, entry);
    }
    return entry;
  }

  #evictLeastRecentlyUsed(): void {
    for (const entry of this.#entries.values()) {
      if (entry !== this.default && !entry.isRefreshing) {
        this.evict(entry);
        return;
      }
    }
  }
}
