import { createHash } from 'node:crypto';
import { monotonicNow, sleep, type Clock } from '../../common/clock.js';
import { earliestRefreshAtMs } from './refresh-time.js';
import type { SourcedToken } from '../token-source.js';

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
  /**
   * From `get` only, optional: the entry's remaining time to live in the store as it was read, in
   * milliseconds (entries are written with their token's remaining life as TTL). When given, the
   * manager counts the token's expiry from its own clock plus this, keeping `refreshAt`'s distance
   * from `expiresAt`, so that a writer whose clock is wrong cannot stretch a token's life.
   */
  readonly ttlMs?: number;
}

/**
 * A token cache shared by the processes of a fleet (pods, workers), so that they make one token
 * request per token lifetime between them instead of one each. `grpc-oauth2-credentials/redis`
 * implements it on Redis; anything with the same three operations fits.
 *
 * The manager reads the shared entry before each fetch; when none is usable it takes the lock (when
 * the cache has one), reads again, fetches, writes the entry, hands the token to its callers and
 * releases the lock. A process that did not get the lock waits for the entry (taking the lock if it
 * is freed) for at most a quarter of `maxWaitMs` when callers wait, then fetches itself; a background
 * refresh, whose token is served meanwhile, waits until only `maxWaitMs` of that token is left. Every
 * failure of the cache fails open: the manager fetches directly (a background refresh once that wait
 * is over) and reports it with a `sharedCacheFailed` event.
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
   * no usable entry fetches. A lock that expires sooner than `ttlMs` when its holder dies (a short
   * lease the holder renews, as the Redis cache's) spares the others the wait.
   */
  lock?(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

/** Which operation of a shared cache failed; see the `sharedCacheFailed` event. */
export type SharedCacheOperation = 'get' | 'set' | 'lock' | 'release';

/** What {@link fetchThroughSharedCache} needs besides the cache. */
export interface SharedFetchContext {
  readonly key: string;
  readonly clock: Clock;
  /** Without a `refreshAt`, a shared entry needs this much life left to be used, in milliseconds (the refresh margin). */
  readonly minRemainingMs: number;
  /** The longest a lock is held, in milliseconds; also the longest wait of callers for another process's entry. */
  readonly lockTtlMs: number;
  /** The caller's longest wait, in milliseconds: a quarter of it at most is spent waiting for another process. */
  readonly maxWaitMs: number;
  /** The token this process holds or has just dropped: a shared entry holding it is no newer, so not used. */
  readonly staleAccessToken: string | undefined;
  /**
   * In a background refresh, when the token this process serves meanwhile expires (monotonic ms);
   * `undefined` once callers wait for this fetch (no usable token). Asked again at each poll. Such a
   * refresh is in no hurry: it waits for another process's entry, or for the cache to answer again,
   * until only `maxWaitMs` of that token is left.
   */
  readonly servingUntilMs: () => number | undefined;
  readonly signal: AbortSignal;
  /** Called for every failure of the cache; the fetch goes on without it. */
  readonly onFailure: (operation: SharedCacheOperation, error: unknown) => void;
  /** Called when a token came from the cache. */
  readonly onHit: () => void;
  /** Called when another process held the lock, so this one waits for its entry. */
  readonly onLockWait: () => void;
}

/** How often a process without the lock looks for the entry another process is fetching, at first and at most, in ms. */
const firstPollMs = 10;
const maxPollMs = 100;
/**
 * The share of `maxWaitMs` a process waits for another's entry before fetching itself: the rest is
 * left for its own request and retries.
 */
const lockWaitShare = 1 / 4;

/** The key of a shared entry: a hash, so that no identity or scope list is readable in the store. */
export function sharedCacheKey(
  identity: string,
  request: { scopes: readonly string[]; audience?: string | undefined; resource?: string | undefined },
): string {
  const material = JSON.stringify([identity, request.scopes, request.audience ?? null, request.resource ?? null]);
  return createHash('sha256').update(material).digest('base64url');
}

/**
 * The lock, as far as this process knows: its to release, another's, `failed` (the cache did not
 * answer, so it may be anyone's), or none (the cache has no lock, or waiting for it is over).
 */
type Lock = { readonly release: () => Promise<void> } | 'held' | 'failed' | 'none';

/**
 * Gets a token through `cache` (see {@link SharedTokenCache} for the protocol), `fetch` doing the
 * request. A failed lock means fetching at once when callers wait (never waiting on a cache that is
 * down), and polling like a waiter in a background refresh. The entry is written before the token
 * is returned, so that a process that exits (or closes its Redis client) right after getting it has
 * shared it; the lock is released after. `close()` (the context's signal) releases a lock held by a
 * request in flight at once.
 */
export async function fetchThroughSharedCache(
  cache: SharedTokenCache,
  fetch: () => Promise<SourcedToken>,
  context: SharedFetchContext,
): Promise<SourcedToken> {
  context.signal.throwIfAborted();
  const found = await usableEntry(cache, context);
  if (found !== undefined) return found;
  const first = await takeLock(cache, context);
  let lock: Exclude<Lock, 'held' | 'failed'>;
  if (first === 'held' || mayWaitOut(first, context)) {
    if (first === 'held') context.onLockWait();
    const waited = await waitForEntry(cache, context);
    if (!isLock(waited)) return waited;
    lock = waited;
  } else {
    lock = first === 'failed' ? 'none' : first;
  }
  if (lock === 'none') return share(cache, await fetch(), context);
  const release = releaseOnce(lock, context);
  context.signal.addEventListener('abort', release, { once: true });
  try {
    context.signal.throwIfAborted();
    const fetchedMeanwhile = await usableEntry(cache, context);
    return fetchedMeanwhile ?? (await share(cache, await fetch(), context));
  } finally {
    context.signal.removeEventListener('abort', release);
    release();
  }
}

/** Releases `lock` once, however often called; a failure is reported like any other. */
function releaseOnce(lock: { readonly release: () => Promise<void> }, context: SharedFetchContext): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    void attempt(context, 'release', lock.release);
  };
}

/** Writes the entry, with its remaining life as TTL, and passes the token on. */
async function share(cache: SharedTokenCache, token: SourcedToken, context: SharedFetchContext): Promise<SourcedToken> {
  const now = context.clock.now();
  const expiresAtMs = token.expiresAt.getTime();
  if (expiresAtMs > now) {
    const refreshAt = new Date(earliestRefreshAtMs(now, expiresAtMs, context.minRemainingMs));
    const shared: SharedToken = {
      accessToken: token.accessToken,
      expiresAt: token.expiresAt,
      refreshAt,
      scopes: token.scopes ?? [],
    };
    await attempt(context, 'set', () => cache.set(context.key, shared, Math.ceil(expiresAtMs - now)));
  }
  return token;
}

async function usableEntry(cache: SharedTokenCache, context: SharedFetchContext): Promise<SourcedToken | undefined> {
  const entry = await attempt(context, 'get', () => cache.get(context.key));
  if (!isSharedToken(entry) || entry.accessToken === context.staleAccessToken) return undefined;
  const now = context.clock.now();
  const { expiresAtMs, refreshAtMs } = entryTimes(entry, now, context.minRemainingMs);
  if (now >= refreshAtMs) return undefined;
  context.onHit();
  return { accessToken: entry.accessToken, expiresAt: new Date(expiresAtMs), scopes: entry.scopes };
}

/**
 * An entry's expiry and refresh time on this process's clock. The writer's dates are on its own
 * clock, which may be off by minutes; the entry's remaining time to live in the store is not, so
 * when the store gives it, the expiry is now plus that, and the refresh time keeps its distance
 * from the expiry (a duration, which no clock offset changes).
 */
function entryTimes(
  entry: SharedToken,
  now: number,
  minRemainingMs: number,
): { expiresAtMs: number; refreshAtMs: number } {
  const writtenExpiresAtMs = entry.expiresAt.getTime();
  const leadMs =
    entry.refreshAt instanceof Date ? Math.max(0, writtenExpiresAtMs - entry.refreshAt.getTime()) : minRemainingMs;
  const ttlMs = entry.ttlMs;
  const expiresAtMs =
    typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs >= 0 ? now + ttlMs : writtenExpiresAtMs;
  return { expiresAtMs, refreshAtMs: expiresAtMs - leadMs };
}

async function takeLock(cache: SharedTokenCache, context: SharedFetchContext): Promise<Lock> {
  if (cache.lock === undefined) return 'none';
  let failed = false;
  const release = await attempt(
    context,
    'lock',
    () => cache.lock?.(context.key, context.lockTtlMs),
    () => (failed = true),
  );
  if (release !== undefined) return { release };
  return failed ? 'failed' : 'held';
}

/**
 * Whether a failed lock is waited out rather than taken as a reason to fetch at once: only in a
 * background refresh (no caller waits), which polls until the cache answers again. A fleet whose
 * Redis stalls as it refreshes then makes one request, not one per process.
 */
function mayWaitOut(lock: Lock, context: SharedFetchContext): boolean {
  return lock === 'failed' && context.servingUntilMs() !== undefined;
}

/**
 * Until when (monotonic ms) to wait for another process's entry, in a wait that began at
 * `startedAtMs`: a quarter of `maxWaitMs` (and no longer than the lock's own longest hold) while
 * callers wait; in a background refresh, until only `maxWaitMs` of the token served meanwhile is
 * left, if that is later. Asked at each poll: a token dropped meanwhile (rejected by a server) ends
 * the longer wait.
 */
function entryWaitDeadline(context: SharedFetchContext, startedAtMs: number): number {
  const callersDeadline = startedAtMs + Math.min(context.lockTtlMs, context.maxWaitMs * lockWaitShare);
  const servingUntilMs = context.servingUntilMs();
  return servingUntilMs === undefined ? callersDeadline : Math.max(callersDeadline, servingUntilMs - context.maxWaitMs);
}

/**
 * Polls for the entry of the process holding the lock (soon at first, then every 100 ms), taking the
 * lock as soon as it is free again (its holder failed, closed, or died and its lease ran out), so that
 * one process, not all, fetches next. Gives up at {@link entryWaitDeadline}: a holder that is alive
 * but slow does not hold callers past a quarter of `maxWaitMs`.
 */
async function waitForEntry(
  cache: SharedTokenCache,
  context: SharedFetchContext,
): Promise<SourcedToken | Exclude<Lock, 'held' | 'failed'>> {
  const startedAtMs = monotonicNow(context.clock);
  const remainingMs = (): number => entryWaitDeadline(context, startedAtMs) - monotonicNow(context.clock);
  for (let delayMs = firstPollMs; remainingMs() > 0; delayMs = Math.min(delayMs * 2, maxPollMs)) {
    await sleep(context.clock, Math.min(delayMs, remainingMs()), context.signal);
    const entry = await usableEntry(cache, context);
    if (entry !== undefined) return entry;
    const lock = await takeLock(cache, context);
    if (lock === 'failed') {
      if (!mayWaitOut(lock, context)) return 'none';
    } else if (lock !== 'held') {
      return lock;
    }
  }
  return 'none';
}

/** Runs one cache operation; a failure is reported and reads as "nothing there". */
async function attempt<T>(
  context: SharedFetchContext,
  operation: SharedCacheOperation,
  run: () => Promise<T> | T,
  onFailed?: () => void,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    onFailed?.();
    context.onFailure(operation, error);
    return undefined;
  }
}

function isLock(value: SourcedToken | Lock): value is Lock {
  return typeof value === 'string' || typeof (value as { release?: unknown }).release === 'function';
}

function isSharedToken(value: unknown): value is SharedToken {
  const entry = value as Partial<SharedToken> | undefined;
  return (
    typeof entry?.accessToken === 'string' &&
    entry.accessToken !== '' &&
    entry.expiresAt instanceof Date &&
    Array.isArray(entry.scopes)
  );
}
