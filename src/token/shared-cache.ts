import { createHash } from 'node:crypto';
import { monotonicNow, sleep, type Clock } from './clock.js';
import type { SourcedToken } from './token-source.js';

/** A token as it is kept in a {@link SharedTokenCache}. */
export interface SharedToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  /**
   * When the fleet should replace it: the earliest moment any process's refresh timer for it can
   * fire. Past it the entry is not used, so that a refreshing process fetches instead of taking the
   * token it already holds. Default: `refreshBeforeExpiryMs` before `expiresAt`.
   */
  readonly refreshAt?: Date;
  readonly scopes: readonly string[];
}

/**
 * A token cache shared by the processes of a fleet (pods, workers), so that they make one token
 * request per token lifetime between them instead of one each. `grpc-oauth2-credentials/redis`
 * implements it on Redis; anything with the same three operations fits.
 *
 * The manager reads the shared entry before each fetch; when none is usable it takes the lock (when
 * the cache has one), reads again, fetches, writes the entry, and releases the lock. A process that
 * did not get the lock waits briefly for the entry, then fetches itself. Every failure of the cache
 * fails open: the manager fetches directly and reports it with a `sharedCacheFailed` event.
 *
 * Keys are hashes of the token endpoint, client id, scopes, audience and resource; never a secret.
 */
export interface SharedTokenCache {
  /** The token stored under `key`, or `undefined`. */
  get(key: string): Promise<SharedToken | undefined>;
  /** Stores `token` under `key` for `ttlMs` milliseconds (its remaining life). */
  set(key: string, token: SharedToken, ttlMs: number): Promise<void>;
  /**
   * Takes a lock on `key` for at most `ttlMs` milliseconds. Resolves with a function that releases
   * it, or `undefined` when another process holds it. Optional: without it, every process that finds
   * no usable entry fetches.
   */
  lock?(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

/** Which operation of a shared cache failed; see the `sharedCacheFailed` event. */
export type SharedCacheOperation = 'get' | 'set' | 'lock' | 'release';

/** What {@link fetchThroughSharedCache} needs besides the cache. */
export interface SharedFetchContext {
  readonly key: string;
  readonly clock: Clock;
  /** A shared entry needs this much life left to be used, in milliseconds (the refresh margin). */
  readonly minRemainingMs: number;
  /** How long to hold the lock, and to wait for another process's entry, in milliseconds. */
  readonly lockTtlMs: number;
  readonly signal: AbortSignal;
  /** Called for every failure of the cache; the fetch goes on without it. */
  readonly onFailure: (operation: SharedCacheOperation, error: unknown) => void;
  /** Called when a token came from the cache. */
  readonly onHit: () => void;
}

/** How often a process without the lock looks for the entry another process is fetching, in ms. */
const pollIntervalMs = 100;

/** The key of a shared entry: a hash, so that no identity or scope list is readable in the store. */
export function sharedCacheKey(identity: string, request: { scopes: readonly string[]; audience?: string | undefined; resource?: string | undefined }): string {
  const material = JSON.stringify([identity, request.scopes, request.audience ?? null, request.resource ?? null]);
  return createHash('sha256').update(material).digest('base64url');
}

/** Gets a token through `cache` (see {@link SharedTokenCache} for the protocol), `fetch` doing the request. */
export async function fetchThroughSharedCache(
  cache: SharedTokenCache,
  fetch: () => Promise<SourcedToken>,
  context: SharedFetchContext,
): Promise<SourcedToken> {
  const found = await usableEntry(cache, context);
  if (found !== undefined) return found;
  const release = await attempt(context, 'lock', () => cache.lock?.(context.key, context.lockTtlMs));
  if (cache.lock !== undefined && release === undefined) {
    const fetchedElsewhere = await waitForEntry(cache, context);
    if (fetchedElsewhere !== undefined) return fetchedElsewhere;
  }
  try {
    if (release !== undefined) {
      const fetchedMeanwhile = await usableEntry(cache, context);
      if (fetchedMeanwhile !== undefined) return fetchedMeanwhile;
    }
    const token = await fetch();
    const ttlMs = token.expiresAt.getTime() - context.clock.now();
    if (ttlMs > 0) {
      const shared: SharedToken = { accessToken: token.accessToken, expiresAt: token.expiresAt, scopes: token.scopes ?? [] };
      await attempt(context, 'set', () => cache.set(context.key, shared, Math.ceil(ttlMs)));
    }
    return token;
  } finally {
    if (release !== undefined) await attempt(context, 'release', release);
  }
}

async function usableEntry(cache: SharedTokenCache, context: SharedFetchContext): Promise<SourcedToken | undefined> {
  const entry = await attempt(context, 'get', () => cache.get(context.key));
  if (!isSharedToken(entry) || entry.expiresAt.getTime() - context.clock.now() <= context.minRemainingMs) return undefined;
  context.onHit();
  return entry;
}

/** Polls for the entry of the process holding the lock, until the lock would have expired. */
async function waitForEntry(cache: SharedTokenCache, context: SharedFetchContext): Promise<SourcedToken | undefined> {
  const deadline = monotonicNow(context.clock) + context.lockTtlMs;
  while (monotonicNow(context.clock) < deadline) {
    await sleep(context.clock, pollIntervalMs, context.signal);
    const entry = await usableEntry(cache, context);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/** Runs one cache operation; a failure is reported and reads as "nothing there". */
async function attempt<T>(context: SharedFetchContext, operation: SharedCacheOperation, run: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    context.onFailure(operation, error);
    return undefined;
  }
}

function isSharedToken(value: unknown): value is SharedToken {
  const entry = value as Partial<SharedToken> | undefined;
  return typeof entry?.accessToken === 'string' && entry.accessToken !== '' && entry.expiresAt instanceof Date && Array.isArray(entry.scopes);
}
