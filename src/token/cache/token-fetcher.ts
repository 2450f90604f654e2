import { AccessToken } from '../access-token.js';
import { monotonicNow } from '../../common/clock.js';
import { redactError } from '../../common/redact.js';
import { TokenError } from '../errors.js';
import type { Emit } from '../events.js';
import { classifyFailure } from '../http/classify-failure.js';
import { maxLifetimeSec } from '../http/token-response.js';
import type { TokenLifecycle } from '../lifecycle/token-lifecycle.js';
import type { ResolvedOptions } from '../options.js';
import type { TokenRequest, TokenSource } from '../token-source.js';
import { EndpointGate } from './endpoint-gate.js';
import { fetchThroughSharedCache, sharedCacheKey } from './shared-cache.js';
import type { StatsRecorder } from './stats.js';

/** What the fetcher works with; the manager owns all of it. */
export interface FetcherParts {
  readonly source: TokenSource;
  readonly options: ResolvedOptions;
  readonly stats: StatsRecorder;
  readonly emit: Emit;
  /** Aborted by `close()`. */
  readonly closeSignal: AbortSignal;
  /** Debug lines and telemetry; undefined when neither is on. */
  readonly lifecycle: TokenLifecycle | undefined;
}

/**
 * One attempt at a token for any scope set of a manager: through the endpoint gate (the token
 * endpoint's health, shared by every scope set) and the shared cache when there is one, with the
 * source's answer checked and every failure turned into a {@link TokenError}. It holds no scope set's
 * state: each `ScopeSetCycler` runs its own retry loop of these attempts.
 */
export class TokenFetcher {
  readonly #parts: FetcherParts;
  readonly #gate: EndpointGate;
  /** Earliest time (monotonic) a caller facing a fatal failure may make the source re-read its files. */
  #nextCredentialCheckMs = 0;

  constructor(parts: FetcherParts) {
    this.#parts = parts;
    this.#gate = new EndpointGate(parts.options.clock, parts.options.retry);
  }

  /**
   * One attempt. `staleAccessToken` is the token the scope set holds or has just dropped: a shared
   * entry holding it is no newer. `servingUntilMs` tells, in a background refresh, when the token
   * served meanwhile expires (monotonic ms), and `undefined` once callers wait. A secret or key
   * rotated to fix `invalid_client` / `invalid_grant` is re-read and tried once more within the attempt.
   */
  async fetch(
    request: Omit<TokenRequest, 'signal'>,
    staleAccessToken: string | undefined,
    servingUntilMs: () => number | undefined,
  ): Promise<AccessToken> {
    try {
      return await this.#fetchOnce(request, staleAccessToken, servingUntilMs);
    } catch (err) {
      const error = this.classify(err);
      const rotatable = error.code === 'invalid_client' || error.code === 'invalid_grant';
      if (rotatable && (await this.#reloadCredentials()))
        return this.#fetchOnce(request, staleAccessToken, servingUntilMs);
      throw error;
    }
  }

  /** How long a retry after the failure just recorded waits, in ms: the endpoint's backoff (see {@link EndpointGate.backoffMs}). */
  backoffMs(): number {
    return this.#gate.backoffMs();
  }

  /**
   * While a fatal failure is remembered, no request is sent, so a secret or key file rotated to fix it
   * would go unseen. Callers (who still get the error at once) make the source re-read its files, at
   * most once per `retry.maxTimeoutMs`; when they changed, `onRotated` forgets the fatal failures.
   */
  checkForRotatedCredentials(onRotated: () => void): void {
    const now = monotonicNow(this.#parts.options.clock);
    if (this.#parts.source.reloadCredentials === undefined || now < this.#nextCredentialCheckMs) return;
    this.#nextCredentialCheckMs = now + this.#parts.options.retry.maxTimeoutMs;
    void this.#reloadCredentials().then((changed) => {
      if (changed) onRotated();
    });
  }

  /** What a failure means, as a TokenError: `closed` once the manager closed, whatever was thrown. */
  classify(err: unknown): TokenError {
    if (this.#parts.closeSignal.aborted) return closedError();
    if (err instanceof TokenError) return err;
    return classifyFailure(err, {
      endpoint: this.#parts.source.endpoint,
      secrets: this.#secrets(),
      nowMs: this.#parts.options.clock.now(),
    });
  }

  async #fetchOnce(
    request: Omit<TokenRequest, 'signal'>,
    staleAccessToken: string | undefined,
    servingUntilMs: () => number | undefined,
  ): Promise<AccessToken> {
    const { source, closeSignal, options, stats, emit } = this.#parts;
    const viaGate = (): Promise<AccessToken> => this.#gate.send(() => this.#send(request), closeSignal);
    const { sharedCache } = options;
    if (sharedCache === undefined) return viaGate();
    const shared = await fetchThroughSharedCache(sharedCache, viaGate, {
      key: sharedCacheKey(source.cacheIdentity ?? source.endpoint, request),
      clock: options.clock,
      minRemainingMs: options.refreshBeforeExpiryMs,
      lockTtlMs: options.requestTimeoutMs + 1_000,
      maxWaitMs: options.maxWaitMs,
      staleAccessToken,
      servingUntilMs,
      signal: closeSignal,
      onFailure: (operation, error) => {
        stats.sharedCacheFailures++;
        emit('sharedCacheFailed', { operation, error: redactError(error, this.#secrets()) });
      },
      onHit: () => stats.sharedCacheHits++,
      onLockWait: () => stats.sharedCacheLockWaits++,
    });
    return this.#toAccessToken(shared, request);
  }

  /** One request to the source; its outcome, checked answer included, is the endpoint's health. */
  async #send(request: Omit<TokenRequest, 'signal'>): Promise<AccessToken> {
    const { source, closeSignal, stats, lifecycle } = this.#parts;
    stats.tokenRequests++;
    const observer = lifecycle?.requestSent(request.scopes);
    try {
      const sourced = await source.fetchToken({ ...request, signal: closeSignal });
      const token = this.#toAccessToken(sourced, request);
      this.#gate.record(undefined);
      observer?.answered(sourced);
      return token;
    } catch (err) {
      stats.failedTokenRequests++;
      const error = this.classify(err);
      this.#gate.record(error);
      observer?.failed(error);
      throw error;
    }
  }

  /** Checks what a (possibly user-written) source, or a shared cache, returned. */
  #toAccessToken(sourced: unknown, request: Omit<TokenRequest, 'signal'>): AccessToken {
    if (sourced instanceof AccessToken) return sourced;
    const { endpoint } = this.#parts.source;
    const candidate = sourced as { accessToken?: unknown; expiresAt?: unknown; scopes?: readonly string[] } | undefined;
    const expiresAtMs = candidate?.expiresAt instanceof Date ? candidate.expiresAt.getTime() : NaN;
    const now = this.#parts.options.clock.now();
    if (typeof candidate?.accessToken !== 'string' || candidate.accessToken === '') {
      throw new TokenError('invalid_response', `token source ${endpoint} returned no accessToken`, { retryable: true });
    }
    // The same rules as for a token endpoint's expires_in: no token that is already expired (a
    // seconds-for-milliseconds slip) and none that (almost) never expires.
    if (!(expiresAtMs > now) || expiresAtMs - now > maxLifetimeSec * 1000) {
      throw new TokenError(
        'invalid_response',
        `token source ${endpoint} returned an expiresAt that is not between now and ${maxLifetimeSec} s from now`,
        { retryable: true },
      );
    }
    return new AccessToken(candidate.accessToken, new Date(expiresAtMs), candidate.scopes ?? request.scopes);
  }

  async #reloadCredentials(): Promise<boolean> {
    try {
      return (await this.#parts.source.reloadCredentials?.()) ?? false;
    } catch {
      return false;
    }
  }

  #secrets(): Iterable<string> {
    return this.#parts.source.secretValues?.() ?? [];
  }
}

/** The rejection of every `getToken()` after `close()`. */
export function closedError(): TokenError {
  return new TokenError('closed', 'the TokenManager was closed; create a new one to get tokens');
}
