import type { RetryContext } from 'p-retry';
import type { AccessToken } from '../access-token.js';
import { monotonicNow, sleep } from '../../common/clock.js';
import { SingleFlight } from '../../common/single-flight.js';
import type { TokenError } from '../errors.js';
import { emitFailure, type Emit } from '../events.js';
import type { TokenLifecycle } from '../lifecycle/token-lifecycle.js';
import type { ResolvedOptions } from '../options.js';
import type { TokenRequest } from '../token-source.js';
import { fatalDelayMs } from './backoff.js';
import { holdToken, type HeldToken } from './refresh-time.js';
import { RefreshTimer } from './refresh-timer.js';
import { retryLoop } from './retry-loop.js';
import type { StatsRecorder } from './stats.js';
import type { TokenFetcher } from './token-fetcher.js';
import { waitFor } from './wait.js';

/** What every scope set of a manager shares; the manager owns all of it. */
export interface CyclerContext {
  readonly fetcher: TokenFetcher;
  readonly options: ResolvedOptions;
  readonly stats: StatsRecorder;
  readonly emit: Emit;
  /** Debug lines and telemetry; undefined when neither is on. */
  readonly lifecycle: TokenLifecycle | undefined;
  /** Aborted by `close()`. */
  readonly closeSignal: AbortSignal;
  /** A scope set whose timer found it unused for a whole token lifetime. */
  readonly onIdle: (cycler: ScopeSetCycler) => void;
  /** A caller met a fatal failure: see whether the credential files were rotated to fix it. */
  readonly onFatalFailureSeen: () => void;
}

/** Shortest time between two forced refreshes (`invalidate(token)`) of one scope set, in ms. */
export const forcedRefreshIntervalMs = 30_000;

/** A failure that callers share until `untilMs` (monotonic ms) instead of each sending a request. */
interface RememberedFailure {
  readonly error: TokenError;
  readonly untilMs: number;
  /** An answer retrying soon will not fix: remembered for minutes, not for a backoff delay. */
  readonly fatal: boolean;
}

/**
 * One scope set's token and everything about getting the next one, in private fields that nothing
 * else writes. Its getters are the refresh policy, and {@link ScopeSetCycler.getToken} branches on them
 * as they read:
 * 1. Must refresh (no usable token, no remembered failure): wait for the one shared refresh.
 * 2. Should refresh (a usable token past its refresh time): refresh in the background, serve the token.
 * 3. Otherwise serve the cached token, or the remembered failure until its time is up.
 * A timer applies rule 2 between calls while the scope set is in use. Times are monotonic ms.
 */
export class ScopeSetCycler {
  readonly #context: CyclerContext;
  readonly #refresh = new SingleFlight<AccessToken>();
  #held: HeldToken | undefined;
  /** Set by every use; cleared when the refresh timer fires, so idle scope sets stop refreshing. */
  #usedSinceTimer = false;
  #failure: RememberedFailure | undefined;
  /** The latest failure of the retry loop running now, for callers who stop waiting before it ends. */
  #latestError: TokenError | undefined;
  /** Fatal failures in a row, for the doubling wait between them. */
  #fatalStreak = 0;
  /** The token `invalidate(token)` dropped last: a shared cache may still hold it, and must not serve it back. */
  #rejectedAccessToken: string | undefined;
  #forcedRefreshAtMs = -Infinity;
  readonly #timer: RefreshTimer;

  /** `key`: the scopes, sorted and joined by spaces. */
  constructor(
    readonly key: string,
    readonly request: Omit<TokenRequest, 'signal'>,
    context: CyclerContext,
  ) {
    this.#context = context;
    this.#timer = new RefreshTimer(context.options.clock);
  }

  /** A token is cached and has not expired. */
  get isUsable(): boolean {
    return this.#held !== undefined && this.#now() < this.#held.expiresAtMs;
  }
  /** The retry loop of this scope set is running. */
  get isRefreshing(): boolean {
    return this.#refresh.pending !== undefined;
  }
  /** A failure is remembered: callers without a usable token get it at once, and nothing is sent. */
  get isBackingOff(): boolean {
    return this.#failure !== undefined && this.#now() < this.#failure.untilMs;
  }
  /** The remembered failure is fatal (bad credentials, scope or configuration). */
  get isFatal(): boolean {
    return this.#failure?.fatal === true && this.isBackingOff;
  }
  /** Rule 1: the caller has to wait for the network. */
  get mustRefresh(): boolean {
    return !this.isUsable && !this.isBackingOff;
  }
  /** Rule 2: serve the usable token and start a background refresh. */
  get shouldRefresh(): boolean {
    const due = this.#now() >= (this.#held?.refreshAtMs ?? Infinity);
    return due && this.isUsable && !this.isRefreshing && !this.isBackingOff;
  }
  /** `invalidate(token)` may drop the token now: at most one forced refresh per scope set per interval. */
  get mayForceRefresh(): boolean {
    return this.#now() - this.#forcedRefreshAtMs >= forcedRefreshIntervalMs;
  }

  /** The token, by the three rules; a waiting caller stops at `signal` or `maxWaitMs`. */
  getToken(signal: AbortSignal | undefined): Promise<AccessToken> {
    this.#usedSinceTimer = true;
    if (this.mustRefresh) return this.#waitForRefresh(signal);
    if (this.isUsable) return Promise.resolve(this.#serve());
    if (this.isFatal) this.#context.onFatalFailureSeen();
    return Promise.reject((this.#failure as RememberedFailure).error);
  }

  /** The usable token now, if any (rules 2 and 3 apply); never waits. */
  cachedToken(): AccessToken | undefined {
    this.#usedSinceTimer = true;
    return this.isUsable ? this.#serve() : undefined;
  }

  /** Rule 2 from a caller or a timer: refresh while the token is served. */
  refreshInBackground(): void {
    if (this.#context.closeSignal.aborted || this.isRefreshing || this.isBackingOff) return;
    const expiresInMs = (this.#held?.expiresAtMs ?? 0) - this.#now();
    this.#context.stats.backgroundRefreshes++;
    this.#context.lifecycle?.backgroundRefreshStarted(this.request.scopes, expiresInMs);
    void this.#startRefresh(false);
  }

  /** Drops `accessToken` if held and a forced refresh is allowed; with no argument, also any failure. */
  invalidate(accessToken?: string): boolean {
    if (accessToken === undefined) {
      this.#failure = undefined;
      this.#fatalStreak = 0;
    } else if (this.#held?.token.accessToken !== accessToken || !this.mayForceRefresh) {
      return false;
    } else {
      this.#forcedRefreshAtMs = this.#now();
      this.#rejectedAccessToken = accessToken;
    }
    const dropped = this.#held !== undefined;
    this.dispose();
    return dropped;
  }

  /** Forgets a remembered fatal failure (its credential files changed). */
  forgetFatalFailure(): void {
    if (this.#failure?.fatal === true) this.#failure = undefined;
  }

  /** Drops the token and stops the timer (on eviction and `close()`). */
  dispose(): void {
    this.#held = undefined;
    this.#timer.clear();
  }

  /** The cache hit: counts it, and applies rule 2 (and a fatal failure's credential check). */
  #serve(): AccessToken {
    const held = this.#held as HeldToken;
    this.#context.stats.cacheHit(this.#now() - held.issuedAtMs);
    if (this.shouldRefresh) this.refreshInBackground();
    if (this.isFatal) this.#context.onFatalFailureSeen();
    return held.token;
  }

  #waitForRefresh(signal: AbortSignal | undefined): Promise<AccessToken> {
    this.#context.stats.callersWaited++;
    const waiting = waitFor(this.#startRefresh(true), signal, this.#context.options, () => this.#latestError);
    return this.#context.lifecycle?.callerWaiting(this.request.scopes, waiting) ?? waiting;
  }

  /** The one retry loop of this scope set, started unless it runs; a failure nobody awaits is handled here. */
  #startRefresh(callerWaiting: boolean): Promise<AccessToken> {
    const refresh = this.#refresh.run(() => this.#retryLoop(callerWaiting));
    refresh.catch(() => undefined);
    return refresh;
  }

  async #retryLoop(callerWaiting: boolean): Promise<AccessToken> {
    const { fetcher, options, closeSignal } = this.#context;
    const startedAtMs = this.#now();
    this.#latestError = undefined;
    try {
      const stale = (): string | undefined => this.#held?.token.accessToken ?? this.#rejectedAccessToken;
      const servingUntil = (): number | undefined => (this.isUsable ? this.#held?.expiresAtMs : undefined);
      const token = await retryLoop(() => fetcher.fetch(this.request, stale(), servingUntil), {
        retries: options.retry.retries,
        signal: closeSignal,
        onFailedAttempt: (context) => this.#recordFailure(context),
      });
      this.#store(token, startedAtMs, callerWaiting);
      return token;
    } catch (err) {
      throw fetcher.classify(err);
    }
  }

  /**
   * The one failure path, after every failed attempt. A fatal failure is remembered for minutes, doubling
   * as it recurs; a retryable one for the endpoint's backoff, waited out here when retries remain.
   */
  async #recordFailure(context: RetryContext): Promise<void> {
    const { closeSignal, options, emit, fetcher } = this.#context;
    if (closeSignal.aborted) return;
    const error = fetcher.classify(context.error);
    const serving = this.isUsable ? this.#held?.token : undefined;
    this.#latestError = error;
    // The one backoff: the endpoint's for a retryable failure, a doubling wait for a fatal one.
    const nextDelayMs = error.retryable ? fetcher.backoffMs() : fatalDelayMs(++this.#fatalStreak, options.retry);
    const event = { scopes: this.request.scopes, error, attempt: context.attemptNumber, nextDelayMs };
    emitFailure(emit, { ...event, servingTokenUntil: serving?.expiresAt });
    const failure = { error, untilMs: this.#now() + nextDelayMs, fatal: !error.retryable };
    this.#failure = failure;
    if (error.retryable && context.retriesLeft > 0) {
      await sleep(options.clock, nextDelayMs, closeSignal);
      if (this.#failure === failure) this.#failure = undefined;
      return;
    }
    if (serving !== undefined) this.#timer.set(failure.untilMs, () => this.refreshInBackground());
  }

  #store(token: AccessToken, startedAtMs: number, callerWaited: boolean): void {
    const { options, stats, emit } = this.#context;
    const held = holdToken(token, options.clock, options.refreshBeforeExpiryMs);
    this.#held = held;
    this.#failure = undefined;
    this.#latestError = undefined;
    this.#fatalStreak = 0;
    this.#timer.set(held.refreshAtMs, () => {
      // Unused for a refresh interval: refresh no more, but serve the token (a use restarts them) until it expires.
      if (!this.#usedSinceTimer) return this.#timer.set(held.expiresAtMs, () => this.#context.onIdle(this));
      this.#usedSinceTimer = false;
      this.refreshInBackground();
    });
    const latencyMs = held.issuedAtMs - startedAtMs;
    stats.tokenIssued(latencyMs);
    const { lifetimeMs, refreshAt } = held;
    emit('tokenIssued', {
      scopes: this.request.scopes,
      lifetimeMs,
      expiresAt: token.expiresAt,
      refreshAt,
      latencyMs,
      callerWaited,
    });
  }

  #now(): number {
    return monotonicNow(this.#context.options.clock);
  }
}
