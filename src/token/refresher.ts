import pRetry, { type RetryContext } from 'p-retry';
import { AccessToken } from './access-token.js';
import { fatalDelayMs, retryDelayMs } from './backoff.js';
import type { CacheEntry } from './cache-entry.js';
import { describeThrown } from '../common/option-checks.js';
import { classifyFailure } from './http/classify-failure.js';
import { monotonicNow, sleep } from '../common/clock.js';
import { EndpointGate } from './endpoint-gate.js';
import { TokenError } from './errors.js';
import type { Emit } from './events.js';
import type { ResolvedOptions } from './options.js';
import { isBackingOff, isRefreshing, isUsable, refreshAtMs } from './refresh-policy.js';
import type { TokenLifecycle } from './lifecycle/token-lifecycle.js';
import { setRefreshTimer } from './refresh-timer.js';
import { redactSecrets } from '../common/redact.js';
import { fetchThroughSharedCache, sharedCacheKey } from './shared-cache.js';
import type { StatsRecorder } from './stats.js';
import { maxLifetimeSec } from './http/token-response.js';
import type { SourcedToken, TokenSource } from './token-source.js';

/** What the refresher works with; the manager owns all of it. */
export interface RefresherParts {
  readonly source: TokenSource;
  readonly options: ResolvedOptions;
  readonly stats: StatsRecorder;
  readonly emit: Emit;
  /** Aborted by `close()`. */
  readonly closeSignal: AbortSignal;
  /** A scope set whose timer found it unused for a whole token lifetime. */
  readonly onIdle: (entry: CacheEntry) => void;
  /** Debug lines and telemetry; undefined when neither is on. */
  readonly lifecycle: TokenLifecycle | undefined;
}

/**
 * Gets tokens for cache entries: one shared retry loop per entry (p-retry counts the attempts), with
 * ONE failure path (`#recordFailure`, p-retry's `onFailedAttempt`, which runs for every failed
 * attempt, the last one included), and the timers that refresh an entry in the background.
 */
export class Refresher {
  readonly #parts: RefresherParts;
  readonly #gate: EndpointGate;
  /** Earliest time (monotonic) a caller facing a fatal failure may make the source re-read its files. */
  #nextCredentialCheckMs = 0;

  constructor(parts: RefresherParts) {
    this.#parts = parts;
    this.#gate = new EndpointGate(parts.options.clock, parts.options.retry);
  }

  /** The entry's retry loop, started unless one runs; a failure nobody awaits is handled here. */
  fetch(entry: CacheEntry, callerWaiting: boolean): Promise<AccessToken> {
    if (entry.inflight === undefined) {
      const loop = this.#retryLoop(entry, callerWaiting).finally(() => {
        entry.inflight = undefined;
      });
      loop.catch(() => undefined);
      entry.inflight = loop;
    }
    return entry.inflight;
  }

  /** Rule 2 of the refresh policy, from a caller or a timer: refresh while the token is served. */
  refreshInBackground(entry: CacheEntry): void {
    if (this.#parts.closeSignal.aborted || isRefreshing(entry) || isBackingOff(entry, this.#now())) return;
    this.#parts.stats.backgroundRefreshes++;
    this.#parts.lifecycle?.backgroundRefreshStarted(entry.request.scopes, entry.expiresAtMs - this.#now());
    void this.fetch(entry, false);
  }

  /**
   * While a fatal failure is remembered, no request is sent, so a secret or key file rotated to fix it
   * would go unseen. Callers (who still get the error at once) make the source re-read its files, at
   * most once per `retry.maxTimeoutMs`; when they changed, `onRotated` forgets the fatal failures.
   */
  checkForRotatedCredentials(onRotated: () => void): void {
    const now = this.#now();
    if (this.#parts.source.reloadCredentials === undefined || now < this.#nextCredentialCheckMs) return;
    this.#nextCredentialCheckMs = now + this.#parts.options.retry.maxTimeoutMs;
    void this.#reloadCredentials().then((changed) => {
      if (changed) onRotated();
    });
  }

  async #retryLoop(entry: CacheEntry, callerWaiting: boolean): Promise<AccessToken> {
    const startedAtMs = this.#now();
    entry.latestError = undefined;
    try {
      const token = await pRetry(() => this.#attempt(entry, true), {
        retries: this.#parts.options.retry.retries,
        // p-retry's own delay runs on real timers; ours runs on the injected clock, in #recordFailure.
        minTimeout: 0,
        maxTimeout: 0,
        randomize: false,
        signal: this.#parts.closeSignal,
        onFailedAttempt: (context) => this.#recordFailure(entry, context),
        shouldRetry: ({ error }) => (error as TokenError).retryable,
      });
      this.#store(entry, token, startedAtMs, callerWaiting);
      return token;
    } catch (err) {
      throw this.#classify(err);
    }
  }

  /** One request, through the endpoint gate and the shared cache when there is one. */
  async #attempt(entry: CacheEntry, mayReloadCredentials: boolean): Promise<AccessToken> {
    const { source, closeSignal, options, stats } = this.#parts;
    const send = async (): Promise<SourcedToken> => {
      stats.tokenRequests++;
      const observer = this.#parts.lifecycle?.requestSent(entry.request.scopes);
      try {
        const sourced = await source.fetchToken({ ...entry.request, signal: closeSignal });
        this.#gate.record(undefined);
        observer?.answered(sourced);
        return sourced;
      } catch (err) {
        stats.failedTokenRequests++;
        const error = this.#classify(err);
        this.#gate.record(error);
        observer?.failed(error);
        throw error;
      }
    };
    const viaGate = (): Promise<SourcedToken> => this.#gate.send(send, closeSignal);
    try {
      const { sharedCache } = options;
      const sourced =
        sharedCache === undefined
          ? await viaGate()
          : await fetchThroughSharedCache(sharedCache, viaGate, {
              key: sharedCacheKey(source.cacheIdentity ?? source.endpoint, entry.request),
              clock: options.clock,
              minRemainingMs: options.refreshBeforeExpiryMs,
              lockTtlMs: options.requestTimeoutMs + 1_000,
              staleAccessToken: entry.token?.accessToken ?? entry.rejectedAccessToken,
              signal: closeSignal,
              onFailure: (operation, error) => {
                stats.sharedCacheFailures++;
                this.#parts.emit('sharedCacheFailed', { operation, error: this.#describeCacheError(error) });
              },
              onHit: () => stats.sharedCacheHits++,
              onLockWait: () => stats.sharedCacheLockWaits++,
            });
      return this.#toAccessToken(sourced, entry);
    } catch (err) {
      const error = this.#classify(err);
      const rotatable = error.code === 'invalid_client' || error.code === 'invalid_grant';
      if (mayReloadCredentials && rotatable && (await this.#reloadCredentials())) return this.#attempt(entry, false);
      throw error;
    }
  }

  /**
   * The one failure path. A fatal failure is remembered for minutes (doubling as it recurs); a
   * retryable one for its backoff delay, which the loop then waits out here when retries remain.
   * Either way a usable token keeps being served, and a timer tries again once the wait is over.
   */
  async #recordFailure(entry: CacheEntry, context: RetryContext): Promise<void> {
    const { closeSignal, options, emit } = this.#parts;
    if (closeSignal.aborted) return;
    const error = this.#classify(context.error);
    const now = this.#now();
    const serving = isUsable(entry, now) ? entry.token : undefined;
    entry.latestError = error;
    entry.failureStreak++;
    let delayMs: number;
    if (error.retryable) {
      delayMs = retryDelayMs(entry.failureStreak - 1, options.retry, error.retryAfterMs);
      emit('refreshFailed', {
        scopes: entry.request.scopes,
        error,
        attempt: context.attemptNumber,
        nextDelayMs: delayMs,
        servingTokenUntil: serving?.expiresAt,
      });
    } else {
      entry.fatalStreak++;
      delayMs = fatalDelayMs(entry.fatalStreak, options.retry);
      emit('fatalFailure', { scopes: entry.request.scopes, error, nextDelayMs: delayMs });
    }
    const failure = { error, untilMs: now + delayMs, fatal: !error.retryable };
    entry.failure = failure;
    if (error.retryable && context.retriesLeft > 0) {
      await sleep(options.clock, delayMs, closeSignal);
      if (entry.failure === failure) entry.failure = undefined;
      return;
    }
    if (serving !== undefined) this.#setTimer(entry, failure.untilMs, () => this.refreshInBackground(entry));
  }

  #store(entry: CacheEntry, token: AccessToken, startedAtMs: number, callerWaiting: boolean): void {
    const { options, stats, emit } = this.#parts;
    const now = this.#now();
    const lifetimeMs = token.expiresAt.getTime() - options.clock.now();
    Object.assign(entry, {
      token,
      failure: undefined,
      latestError: undefined,
      failureStreak: 0,
      fatalStreak: 0,
      issuedAtMs: now,
      expiresAtMs: now + lifetimeMs,
      refreshAtMs: refreshAtMs(now, now + lifetimeMs, options.refreshBeforeExpiryMs),
    });
    this.#setTimer(entry, entry.refreshAtMs, () => {
      if (!entry.usedSinceTimer) return this.#parts.onIdle(entry);
      entry.usedSinceTimer = false;
      this.refreshInBackground(entry);
    });
    const latencyMs = now - startedAtMs;
    stats.tokenIssued(latencyMs);
    const refreshAt = new Date(token.expiresAt.getTime() - (entry.expiresAtMs - entry.refreshAtMs));
    emit('tokenIssued', {
      scopes: entry.request.scopes,
      lifetimeMs,
      expiresAt: token.expiresAt,
      refreshAt,
      latencyMs,
      callerWaited: callerWaiting,
    });
  }

  #setTimer(entry: CacheEntry, dueAtMs: number, onDue: () => void): void {
    entry.timer?.clear();
    entry.timer = setRefreshTimer(this.#parts.options.clock, dueAtMs, () => {
      entry.timer = undefined;
      onDue();
    });
  }

  /** Checks what a (possibly user-written) source returned. */
  #toAccessToken(sourced: SourcedToken, entry: CacheEntry): AccessToken {
    if (sourced instanceof AccessToken) return sourced;
    const { endpoint } = this.#parts.source;
    const expiresAtMs = sourced?.expiresAt instanceof Date ? sourced.expiresAt.getTime() : NaN;
    const now = this.#parts.options.clock.now();
    if (typeof sourced?.accessToken !== 'string' || sourced.accessToken === '') {
      throw new TokenError('invalid_response', `token source ${endpoint} returned no accessToken`, { retryable: true });
    }
    // The same rules as for a token endpoint's expires_in: no token that is already expired (a
    // seconds-for-milliseconds slip) and none that (almost) never expires.
    if (!(expiresAtMs > now) || expiresAtMs - now > maxLifetimeSec * 1000) {
      throw new TokenError(
        'invalid_response',
        `token source ${endpoint} returned an expiresAt that is not between now and ${maxLifetimeSec} s from now`,
        {
          retryable: true,
        },
      );
    }
    return new AccessToken(sourced.accessToken, new Date(expiresAtMs), sourced.scopes ?? entry.request.scopes);
  }

  async #reloadCredentials(): Promise<boolean> {
    try {
      return (await this.#parts.source.reloadCredentials?.()) ?? false;
    } catch {
      return false;
    }
  }

  /** What a failure means, as a TokenError: `closed` once the manager closed, whatever was thrown. */
  #classify(err: unknown): TokenError {
    if (this.#parts.closeSignal.aborted) return closedError();
    if (err instanceof TokenError) return err;
    return classifyFailure(err, {
      endpoint: this.#parts.source.endpoint,
      secrets: this.#secrets(),
      nowMs: this.#parts.options.clock.now(),
    });
  }

  /** A cache's error as name and short message, scrubbed: it is passed on in an event. */
  #describeCacheError(error: unknown): Error {
    const name = error instanceof Error ? error.name : 'Error';
    const message =
      error instanceof Error ? redactSecrets(error.message, this.#secrets()).slice(0, 200) : describeThrown(error);
    const described = new Error(`shared cache failed: ${message}`);
    described.name = name;
    return described;
  }

  #secrets(): Iterable<string> {
    return this.#parts.source.secretValues?.() ?? [];
  }

  #now(): number {
    return monotonicNow(this.#parts.options.clock);
  }
}

/** The rejection of every `getToken()` after `close()`. */
export function closedError(): TokenError {
  return new TokenError('closed', 'the TokenManager was closed; create a new one to get tokens');
}
