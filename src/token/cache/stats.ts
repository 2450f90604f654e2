/** Counters and timings from {@link TokenManager.stats}. */
export interface TokenManagerStats {
  /** HTTP token requests sent (each attempt counts). */
  readonly tokenRequests: number;
  /** Token requests that failed. */
  readonly failedTokenRequests: number;
  /** Tokens received and cached. */
  readonly tokensIssued: number;
  /** Refreshes started while a usable token was still served. */
  readonly backgroundRefreshes: number;
  /** `getToken()` calls that had to wait for the network (no usable token cached). */
  readonly callersWaited: number;
  /** `getToken()` calls answered from the cache. */
  readonly cacheHits: number;
  /** Time from the first attempt to a token, of the latest refresh, in milliseconds. */
  readonly lastRefreshLatencyMs: number | undefined;
  /** The longest such time seen, in milliseconds. */
  readonly maxRefreshLatencyMs: number;
  /** The oldest a token was when handed out, in milliseconds since it arrived. */
  readonly maxTokenAgeAtUseMs: number;
  /** Tokens taken from the shared cache instead of the token endpoint. */
  readonly sharedCacheHits: number;
  /** Fetches that waited for another process holding the shared cache's lock. */
  readonly sharedCacheLockWaits: number;
  /** Failed shared-cache operations (each also a `sharedCacheFailed` event); the manager went on without the cache. */
  readonly sharedCacheFailures: number;
  /** Scope sets with a usable (unexpired) token cached now. */
  readonly cachedTokens: number;
  /** Scope sets held now, with a token or a remembered failure; at most 1,000 (least recently used out). */
  readonly scopeSets: number;
}

/** The counters, as the manager's parts update them; `cachedTokens` is derived when asked. */
export class StatsRecorder {
  tokenRequests = 0;
  failedTokenRequests = 0;
  tokensIssued = 0;
  backgroundRefreshes = 0;
  callersWaited = 0;
  cacheHits = 0;
  sharedCacheHits = 0;
  sharedCacheLockWaits = 0;
  sharedCacheFailures = 0;
  lastRefreshLatencyMs: number | undefined = undefined;
  maxRefreshLatencyMs = 0;
  maxTokenAgeAtUseMs = 0;

  /** A cached token was handed out, `ageMs` after it was requested. */
  cacheHit(ageMs: number): void {
    this.cacheHits++;
    if (ageMs > this.maxTokenAgeAtUseMs) this.maxTokenAgeAtUseMs = ageMs;
  }

  /** A token arrived, `latencyMs` after its retry loop started. */
  tokenIssued(latencyMs: number): void {
    this.tokensIssued++;
    this.lastRefreshLatencyMs = latencyMs;
    if (latencyMs > this.maxRefreshLatencyMs) this.maxRefreshLatencyMs = latencyMs;
  }

  /** A copy, with the number of usable cached tokens. */
  snapshot(cachedTokens: number, scopeSets: number): TokenManagerStats {
    return {
      tokenRequests: this.tokenRequests,
      failedTokenRequests: this.failedTokenRequests,
      tokensIssued: this.tokensIssued,
      backgroundRefreshes: this.backgroundRefreshes,
      callersWaited: this.callersWaited,
      cacheHits: this.cacheHits,
      lastRefreshLatencyMs: this.lastRefreshLatencyMs,
      maxRefreshLatencyMs: this.maxRefreshLatencyMs,
      maxTokenAgeAtUseMs: this.maxTokenAgeAtUseMs,
      sharedCacheHits: this.sharedCacheHits,
      sharedCacheLockWaits: this.sharedCacheLockWaits,
      sharedCacheFailures: this.sharedCacheFailures,
      cachedTokens,
      scopeSets,
    };
  }
}
