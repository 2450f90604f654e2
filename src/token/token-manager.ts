import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import pRetry, { AbortError, type RetryContext } from 'p-retry';
import { classifyFailure } from './classify.js';
import { ClientCredentialsSource } from './client-credentials.js';
import { sleep, type Clock, type TimerHandle } from './clock.js';
import { CredentialFile } from './credential-file.js';
import { TokenError, configError } from './errors.js';
import { channels, type TokenManagerEvents } from './events.js';
import type { HttpSettings } from './oauth-http.js';
import { normalizeScopes } from './scopes.js';
import { checkedEndpoint, resolveClient, resolveOptions, type ResolvedOptions, type TokenManagerOptions } from './options.js';
import { retryDelayMs } from './backoff.js';
import { JwtBearerSource, parseKeyFile } from './service-account.js';
import { AccessToken } from './access-token.js';
import { maxLifetimeSec } from './token-response.js';
import type { GetTokenOptions, TokenProvider } from './token-provider.js';
import type { TokenRequest, TokenSource } from './token-source.js';

/** Options of {@link TokenManager.fromServiceAccountFile}: everything but the endpoint and credential. */
export type ServiceAccountOptions = Omit<
  TokenManagerOptions,
  'issuer' | 'tokenEndpoint' | 'clientId' | 'clientSecret' | 'clientSecretFile' | 'privateKey' | 'privateKeyFile' | 'privateKeyId' | 'tokenSource'
>;

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
  /** The oldest a token was when handed out, in milliseconds since it was requested. */
  readonly maxTokenAgeAtUseMs: number;
  /** Scope sets with a usable (unexpired) token cached now. */
  readonly cachedTokens: number;
}

/** One scope set's token and the state of getting the next one. */
interface CacheEntry {
  readonly key: string;
  readonly request: Omit<TokenRequest, 'signal'>;
  token?: AccessToken;
  /** When the request that got `token` was started. */
  issuedAtMs: number;
  refreshAtMs: number;
  /** Set by every getToken(); cleared when the refresh timer fires, so idle scope sets stop refreshing. */
  usedSinceTimer: boolean;
  /** The shared retry loop, while one runs. */
  inflight?: Promise<AccessToken>;
  /** A failure callers share until `untilMs` (Infinity for a fatal one) instead of each sending a request. */
  failure?: { readonly error: TokenError; readonly untilMs: number };
  /**
   * Failed attempts since the last token, across retry loops: an outage longer than one loop keeps
   * backing off instead of starting again from the shortest delay.
   */
  failureStreak: number;
  timer?: TimerHandle;
}

type MutableStats = { -readonly [K in Exclude<keyof TokenManagerStats, 'cachedTokens'>]: TokenManagerStats[K] };

/** The longest delay a Node timer takes without overflowing. */
const maxTimerDelayMs = 2_147_483_647;

/** The largest share of the refresh margin by which each token's refresh is moved earlier at random. */
const refreshSpreadFraction = 0.1;

/**
 * Gets OAuth2 access tokens for a service account and keeps one ready for every scope set in use.
 *
 * - Concurrent callers share one request per scope set (1,000 cold callers, one request).
 * - A token is refreshed in the background `refreshBeforeExpiryMs` before it expires (less a random
 *   spread of up to 10% of that margin, so a fleet started together spreads its refreshes); callers
 *   keep getting the cached token meanwhile and never wait on the network while one is usable.
 * - Retryable failures are retried with jittered exponential backoff, honouring `Retry-After`; the
 *   cached token is served through an outage until it expires. Fatal answers (`invalid_client`,
 *   `invalid_scope`, ...) are not retried and are remembered, so they never become a request per call.
 *
 * Events (`tokenIssued`, `refreshFailed`, `fatalFailure`) are also published on
 * `node:diagnostics_channel`; none is named `'error'`, so none can crash the process unheard.
 * Timers are unref'd: a manager never keeps the process alive.
 *
 * @example
 * ```ts
 * const tokens = new TokenManager({
 *   issuer: 'https://auth.example.com',
 *   clientId: 'orders-svc',
 *   clientSecret: process.env.CLIENT_SECRET,
 *   scopes: ['orders.read'],
 * });
 * const token = await tokens.getToken();
 * console.log(token); // AccessToken(Bearer [redacted], expires ..., scopes: orders.read)
 * tokens.close();
 * ```
 */
export class TokenManager extends EventEmitter<TokenManagerEvents> implements TokenProvider, Disposable {
  readonly #options: ResolvedOptions;
  readonly #clock: Clock;
  readonly #source: TokenSource;
  readonly #entries = new Map<string, CacheEntry>();
  readonly #defaultEntry: CacheEntry;
  /** Scope arrays seen before, mapped to their cache key, so a caller reusing an array skips sorting. */
  readonly #keysByScopes = new WeakMap<readonly string[], string>();
  readonly #closeController = new AbortController();
  /** Earliest time a caller facing a fatal failure may make the source read its credential files again. */
  #nextCredentialCheckMs = 0;
  #stats: MutableStats = {
    tokenRequests: 0,
    failedTokenRequests: 0,
    tokensIssued: 0,
    backgroundRefreshes: 0,
    callersWaited: 0,
    cacheHits: 0,
    lastRefreshLatencyMs: undefined,
    maxRefreshLatencyMs: 0,
    maxTokenAgeAtUseMs: 0,
  };

  /** @throws TokenError with code `config` (or `insecure_endpoint`) naming the bad option. */
  constructor(options: TokenManagerOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#clock = this.#options.clock;
    this.#source = options.tokenSource ?? this.#clientCredentialsSource(options);
    if (typeof this.#source.fetchToken !== 'function') throw configError('tokenSource must have a fetchToken() method');
    this.#defaultEntry = this.#entryForKey(this.#options.scopes);
  }

  /**
   * A manager for a JSON key file: a Google-format service-account key (`type: "service_account"`,
   * used with the JWT-bearer grant of RFC 7523) or an OAuth2 client file (`client_id`, `client_secret`
   * or `private_key`, `token_endpoint` or `issuer`). The file is read again when the token server
   * answers `invalid_client` or `invalid_grant`, so a rotated key is picked up without a restart.
   *
   * @throws TokenError with code `config` naming the missing or malformed field.
   * @example
   * ```ts
   * const tokens = TokenManager.fromServiceAccountFile('/var/run/secrets/orders-sa.json', { scopes: ['orders.read'] });
   * ```
   */
  static fromServiceAccountFile(path: string, options: ServiceAccountOptions = {}): TokenManager {
    if (typeof path !== 'string' || path === '') throw configError('fromServiceAccountFile needs the key file path');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw configError(`key file ${path} could not be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    }
    const content = parseKeyFile(text, path);
    const file = new CredentialFile(path, 'key file');
    if (content.kind === 'service_account') {
      const resolved = resolveOptions(options);
      checkedEndpoint(content.key.tokenUri, `"token_uri" of ${path}`, resolved.allowInsecureRequests);
      const tokenSource = new JwtBearerSource(
        { file, path, http: httpSettings(resolved), defaultLifetimeMs: resolved.defaultLifetimeMs },
        content.key,
      );
      return new TokenManager({ ...options, tokenSource });
    }
    const { client } = content;
    const fromFile = (field: 'client_secret' | 'private_key') => (fileText: string) => {
      const fresh = parseKeyFile(fileText, path);
      const value = fresh.kind === 'oauth_client' ? (field === 'client_secret' ? fresh.client.clientSecret : fresh.client.privateKey) : undefined;
      if (value === undefined) throw configError(`key file ${path} has no "${field}"`);
      return value;
    };
    const resolved = resolveOptions(options);
    const resolvedClient = resolveClient(
      {
        ...(client.issuer !== undefined ? { issuer: client.issuer } : {}),
        ...(client.tokenEndpoint !== undefined ? { tokenEndpoint: client.tokenEndpoint } : {}),
        clientId: client.clientId,
        // Only to pick and check the auth method; the credential itself is read from the file.
        ...(client.clientSecret !== undefined ? { clientSecret: client.clientSecret } : { privateKey: 'key' }),
        ...(client.clientAuthMethod !== undefined ? { clientAuthMethod: client.clientAuthMethod as 'client_secret_basic' } : {}),
      },
      resolved.allowInsecureRequests,
    );
    const credential =
      client.clientSecret !== undefined
        ? ({ kind: 'secret-file', file, parse: fromFile('client_secret') as (text: string) => string } as const)
        : ({
            kind: 'key-file',
            file,
            parse: fromFile('private_key') as (text: string) => string,
            ...(client.privateKeyId !== undefined ? { kid: client.privateKeyId } : {}),
          } as const);
    const tokenSource = new ClientCredentialsSource({
      ...resolvedClient,
      credential,
      http: httpSettings(resolved),
      defaultLifetimeMs: resolved.defaultLifetimeMs,
    });
    return new TokenManager({ ...options, tokenSource });
  }

  /**
   * A token for the configured scopes, or for `options.scopes`. Resolves at once from the cache while
   * a usable token is held; otherwise joins (or starts) the one shared request for that scope set.
   *
   * @throws TokenError: the last failure when no usable token is cached; `closed` after `close()`;
   * `aborted` when `options.signal` fires first.
   */
  getToken(options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#closeController.signal.aborted) return Promise.reject(closedError());
    let entry: CacheEntry;
    try {
      entry = options?.scopes === undefined ? this.#defaultEntry : this.#entryForScopes(options.scopes);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : configError('getToken scopes are invalid'));
    }
    const now = this.#clock.now();
    const token = this.#usableToken(entry, now);
    if (token !== undefined) return Promise.resolve(token);
    const failure = entry.failure;
    if (failure !== undefined && now < failure.untilMs) {
      if (failure.untilMs === Infinity) this.#checkForRotatedCredentials(now);
      return Promise.reject(failure.error);
    }
    this.#stats.callersWaited++;
    return waitFor(this.#fetch(entry, true), options?.signal);
  }

  /**
   * The cached token for the configured scopes, or for `options.scopes`, when one is usable right now
   * (starting a background refresh when one is due, as `getToken()` does); `undefined` when
   * `getToken()` would have to wait, and after `close()`. Never throws and never waits.
   *
   * @example
   * ```ts
   * const token = tokens.getCachedToken() ?? (await tokens.getToken());
   * ```
   */
  getCachedToken(options?: Pick<GetTokenOptions, 'scopes'>): AccessToken | undefined {
    if (this.#closeController.signal.aborted) return undefined;
    let entry: CacheEntry;
    try {
      entry = options?.scopes === undefined ? this.#defaultEntry : this.#entryForScopes(options.scopes);
    } catch {
      return undefined;
    }
    return this.#usableToken(entry, this.#clock.now());
  }

  /** The cache-hit path shared by getToken() and getCachedToken(). */
  #usableToken(entry: CacheEntry, now: number): AccessToken | undefined {
    entry.usedSinceTimer = true;
    const token = entry.token;
    if (token === undefined || now >= token.expiresAt.getTime()) return undefined;
    this.#stats.cacheHits++;
    const age = now - entry.issuedAtMs;
    if (age > this.#stats.maxTokenAgeAtUseMs) this.#stats.maxTokenAgeAtUseMs = age;
    if (now >= entry.refreshAtMs) this.#refreshInBackground(entry);
    if (entry.failure?.untilMs === Infinity) this.#checkForRotatedCredentials(now);
    return token;
  }

  /**
   * Drops `accessToken` from the cache (the server rejected it): the next `getToken()` for its scope
   * set fetches a new one. Without an argument, drops every token and every remembered failure,
   * including a fatal one (call it after fixing the configuration the server refused).
   */
  invalidate(accessToken?: string): void {
    for (const entry of this.#entries.values()) {
      if (accessToken === undefined) {
        entry.failure = undefined;
      } else if (entry.token?.accessToken !== accessToken) {
        continue;
      }
      entry.token = undefined;
      entry.timer?.clear();
      entry.timer = undefined;
    }
  }

  /** Counters and timings no token server reports; cheap to call. */
  stats(): TokenManagerStats {
    const now = this.#clock.now();
    let cachedTokens = 0;
    for (const entry of this.#entries.values()) {
      if (entry.token !== undefined && now < entry.token.expiresAt.getTime()) cachedTokens++;
    }
    return { ...this.#stats, cachedTokens };
  }

  /**
   * Stops background refreshes, aborts requests in flight and rejects every later `getToken()` with
   * a `closed` TokenError. Idempotent.
   */
  close(): void {
    if (this.#closeController.signal.aborted) return;
    this.#closeController.abort(closedError());
    for (const entry of this.#entries.values()) {
      entry.timer?.clear();
      entry.timer = undefined;
      entry.token = undefined;
    }
    this.#entries.clear();
  }

  /** Same as {@link TokenManager.close}, for `using tokens = new TokenManager(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #clientCredentialsSource(options: TokenManagerOptions): TokenSource {
    const client = resolveClient(options, this.#options.allowInsecureRequests);
    return new ClientCredentialsSource({ ...client, http: httpSettings(this.#options), defaultLifetimeMs: this.#options.defaultLifetimeMs });
  }

  #entryForScopes(scopes: readonly string[]): CacheEntry {
    const key = this.#keysByScopes.get(scopes);
    if (key !== undefined) {
      const entry = this.#entries.get(key);
      if (entry !== undefined) return entry;
    }
    const normalized = normalizeScopes(scopes, 'getToken scopes');
    if (Object.isFrozen(scopes)) this.#keysByScopes.set(scopes, normalized.join(' '));
    return this.#entryForKey(normalized);
  }

  #entryForKey(scopes: readonly string[]): CacheEntry {
    const key = scopes.join(' ');
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const { audience, resource } = this.#options;
      entry = {
        key,
        request: { scopes, ...(audience !== undefined ? { audience } : {}), ...(resource !== undefined ? { resource } : {}) },
        issuedAtMs: 0,
        refreshAtMs: 0,
        usedSinceTimer: false,
        failureStreak: 0,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /*
   * The refresh policy, in three rules:
   * - No usable token: callers must wait, and share one request (getToken -> #fetch).
   * - A usable token past its refresh time: serve it and refresh in the background.
   * - Otherwise: serve the cached token.
   * A refresh timer applies the second rule to a manager in use between calls.
   */
  #refreshInBackground(entry: CacheEntry): void {
    if (entry.inflight !== undefined || this.#closeController.signal.aborted) return;
    if (entry.failure !== undefined && this.#clock.now() < entry.failure.untilMs) return;
    this.#stats.backgroundRefreshes++;
    // Failures are reported through events and remembered in the entry; nobody awaits this one.
    this.#fetch(entry, false).catch(() => undefined);
  }

  #fetch(entry: CacheEntry, callerWaiting: boolean): Promise<AccessToken> {
    if (entry.inflight === undefined) {
      const loop = this.#retryLoop(entry, callerWaiting).finally(() => {
        entry.inflight = undefined;
      });
      // Handled here so that a failure nobody awaits is never an unhandled rejection.
      loop.catch(() => undefined);
      entry.inflight = loop;
    }
    return entry.inflight;
  }

  async #retryLoop(entry: CacheEntry, callerWaiting: boolean): Promise<AccessToken> {
    const startedAtMs = this.#clock.now();
    let attempts = 0;
    try {
      const token = await pRetry(
        async () => {
          attempts++;
          return this.#attempt(entry, true);
        },
        {
          retries: this.#options.retry.retries,
          // p-retry counts attempts and stops on AbortError; the delay between attempts is ours
          // (retryDelayMs, on the injected clock), slept in shouldRetry. Its own delay is zero.
          minTimeout: 0,
          maxTimeout: 0,
          randomize: false,
          signal: this.#closeController.signal,
          shouldRetry: (context) => this.#beforeRetry(entry, context),
        },
      );
      this.#store(entry, token, startedAtMs, callerWaiting);
      return token;
    } catch (err) {
      const error = err instanceof TokenError ? err : this.#classify(err);
      this.#recordFailure(entry, error, attempts);
      throw error;
    }
  }

  /** One request; a fatal failure stops the retries at once through p-retry's AbortError. */
  async #attempt(entry: CacheEntry, mayReloadCredentials: boolean): Promise<AccessToken> {
    this.#stats.tokenRequests++;
    try {
      return this.#toAccessToken(await this.#source.fetchToken({ ...entry.request, signal: this.#closeController.signal }), entry);
    } catch (err) {
      this.#stats.failedTokenRequests++;
      entry.failureStreak++;
      const error = this.#closeController.signal.aborted ? closedError() : this.#classify(err);
      if (error.retryable) throw error;
      if (mayReloadCredentials && (error.code === 'invalid_client' || error.code === 'invalid_grant') && (await this.#reloadCredentials())) {
        return this.#attempt(entry, false);
      }
      throw new AbortError(error);
    }
  }

  /**
   * While a fatal failure is remembered, no request is sent, so a secret or key file rotated to fix it
   * would go unseen. Callers (who still get the error at once) make the source re-read its files, at
   * most once per `retry.maxTimeoutMs`; when they changed, the fatal failures are forgotten.
   */
  #checkForRotatedCredentials(now: number): void {
    if (this.#source.reloadCredentials === undefined || now < this.#nextCredentialCheckMs) return;
    this.#nextCredentialCheckMs = now + this.#options.retry.maxTimeoutMs;
    void this.#reloadCredentials().then((changed) => {
      if (!changed) return;
      for (const entry of this.#entries.values()) {
        if (entry.failure?.untilMs === Infinity) entry.failure = undefined;
      }
    });
  }

  async #reloadCredentials(): Promise<boolean> {
    try {
      return (await this.#source.reloadCredentials?.()) ?? false;
    } catch {
      return false;
    }
  }

  /** Checks what a (possibly user-written) source returned. */
  #toAccessToken(sourced: { accessToken: string; expiresAt: Date; scopes?: readonly string[] }, entry: CacheEntry): AccessToken {
    if (sourced instanceof AccessToken) return sourced;
    const expiresAtMs = sourced?.expiresAt instanceof Date ? sourced.expiresAt.getTime() : NaN;
    const now = this.#clock.now();
    if (typeof sourced?.accessToken !== 'string' || sourced.accessToken === '') {
      throw new TokenError('invalid_response', `token source ${this.#source.endpoint} returned no accessToken`, { retryable: true });
    }
    // The same rules as for a token endpoint's expires_in: no token that is already expired (a
    // seconds-for-milliseconds slip) and none that (almost) never expires.
    if (!(expiresAtMs > now) || expiresAtMs - now > maxLifetimeSec * 1000) {
      throw new TokenError(
        'invalid_response',
        `token source ${this.#source.endpoint} returned an expiresAt that is not between now and ${maxLifetimeSec} s from now`,
        { retryable: true },
      );
    }
    return new AccessToken(sourced.accessToken, new Date(expiresAtMs), sourced.scopes ?? entry.request.scopes);
  }

  async #beforeRetry(entry: CacheEntry, context: RetryContext): Promise<boolean> {
    const error = context.error as TokenError;
    if (!(error instanceof TokenError) || !error.retryable) return false;
    const delayMs = retryDelayMs(entry.failureStreak - 1, this.#options.retry, error.retryAfterMs);
    // Callers without a usable token share this error until the next attempt instead of waiting.
    entry.failure = { error, untilMs: this.#clock.now() + delayMs };
    this.#emitSafely('refreshFailed', {
      scopes: entry.request.scopes,
      error,
      attempt: context.attemptNumber,
      nextDelayMs: delayMs,
      ...(entry.token !== undefined ? { servingTokenUntil: entry.token.expiresAt } : {}),
    });
    await sleep(this.#clock, delayMs, this.#closeController.signal);
    entry.failure = undefined;
    return true;
  }

  #store(entry: CacheEntry, token: AccessToken, startedAtMs: number, callerWaiting: boolean): void {
    const now = this.#clock.now();
    entry.token = token;
    entry.failure = undefined;
    entry.failureStreak = 0;
    entry.issuedAtMs = now;
    entry.refreshAtMs = refreshAtMs(now, token.expiresAt.getTime(), this.#options.refreshBeforeExpiryMs);
    this.#setTimer(entry, entry.refreshAtMs, () => {
      if (entry.usedSinceTimer) {
        entry.usedSinceTimer = false;
        this.#refreshInBackground(entry);
      } else {
        this.#evictIdle(entry);
      }
    });
    const latencyMs = now - startedAtMs;
    this.#stats.tokensIssued++;
    this.#stats.lastRefreshLatencyMs = latencyMs;
    if (latencyMs > this.#stats.maxRefreshLatencyMs) this.#stats.maxRefreshLatencyMs = latencyMs;
    this.#emitSafely('tokenIssued', {
      scopes: entry.request.scopes,
      lifetimeMs: token.expiresAt.getTime() - now,
      expiresAt: token.expiresAt,
      refreshAt: new Date(entry.refreshAtMs),
      latencyMs,
      callerWaited: callerWaiting,
    });
  }

  #recordFailure(entry: CacheEntry, error: TokenError, attempts: number): void {
    if (error.code === 'closed' || this.#closeController.signal.aborted) return;
    const now = this.#clock.now();
    if (!error.retryable) {
      entry.failure = { error, untilMs: Infinity };
      this.#emitSafely('fatalFailure', { scopes: entry.request.scopes, error });
      return;
    }
    const delayMs = retryDelayMs(entry.failureStreak - 1, this.#options.retry, error.retryAfterMs);
    entry.failure = { error, untilMs: now + delayMs };
    const token = entry.token;
    const stillValid = token !== undefined && now < token.expiresAt.getTime();
    this.#emitSafely('refreshFailed', {
      scopes: entry.request.scopes,
      error,
      attempt: attempts,
      nextDelayMs: delayMs,
      ...(stillValid ? { servingTokenUntil: token.expiresAt } : {}),
    });
    // Keep trying in the background while the cached token is still being served.
    if (stillValid) this.#setTimer(entry, now + delayMs, () => this.#refreshInBackground(entry));
  }

  /**
   * A scope set nobody asked for during a whole token lifetime is dropped, so that a caller cycling
   * through many scope sets does not grow the cache (and its refreshes) without bound. The default
   * scope set stays.
   */
  #evictIdle(entry: CacheEntry): void {
    if (entry === this.#defaultEntry || entry.inflight !== undefined) return;
    this.#entries.delete(entry.key);
  }

  /**
   * Runs `onDue` once the clock reaches `dueAtMs`. Timers are re-armed rather than trusted: Node fires
   * a timer a little early at times (by the wall clock), and a delay above 2^31-1 ms (24.8 days, well
   * within a year-long token) overflows to 1 ms, which would refresh in a loop.
   */
  #setTimer(entry: CacheEntry, dueAtMs: number, onDue: () => void): void {
    entry.timer?.clear();
    const arm = (): void => {
      const remainingMs = dueAtMs - this.#clock.now();
      entry.timer = this.#clock.setTimeout(() => {
        entry.timer = undefined;
        if (this.#clock.now() < dueAtMs) {
          arm();
          return;
        }
        try {
          onDue();
        } catch (err) {
          // Nothing may throw from a timer callback; report instead of crashing the host.
          process.emitWarning(`grpc-oauth2-credentials: refresh timer failed: ${(err as Error).message}`);
        }
      }, Math.min(Math.max(0, remainingMs), maxTimerDelayMs));
    };
    arm();
  }

  #classify(err: unknown): TokenError {
    return classifyFailure(err, {
      endpoint: this.#source.endpoint,
      secrets: this.#source.secretValues?.() ?? [],
      nowMs: this.#clock.now(),
    });
  }

  /** A listener that throws must not break the refresh machinery or surface from a timer. */
  #emitSafely<K extends keyof TokenManagerEvents>(event: K, payload: TokenManagerEvents[K][0]): void {
    try {
      channels[event].publish(payload);
      (this.emit as (name: K, value: TokenManagerEvents[K][0]) => boolean)(event, payload);
    } catch (err) {
      process.emitWarning(`grpc-oauth2-credentials: a '${event}' listener threw: ${(err as Error).message}`);
    }
  }
}

/**
 * When to refresh a token issued at `issuedAtMs`: `refreshBeforeExpiryMs` before expiry, moved
 * earlier by a random spread of up to 10% of that margin; never before half its lifetime, so a
 * token that lives shorter than the margin refreshes at half-life instead of in a loop.
 */
export function refreshAtMs(issuedAtMs: number, expiresAtMs: number, refreshBeforeExpiryMs: number, random: () => number = Math.random): number {
  const spreadMs = random() * refreshSpreadFraction * refreshBeforeExpiryMs;
  const halfLife = issuedAtMs + (expiresAtMs - issuedAtMs) / 2;
  return Math.floor(Math.max(expiresAtMs - refreshBeforeExpiryMs - spreadMs, halfLife));
}

function httpSettings(options: ResolvedOptions): HttpSettings {
  return { requestTimeoutMs: options.requestTimeoutMs, allowInsecureRequests: options.allowInsecureRequests, clock: options.clock };
}

function closedError(): TokenError {
  return new TokenError('closed', 'the TokenManager was closed; create a new one to get tokens');
}

/** The shared promise, or a rejection as soon as the caller's signal aborts; the request goes on for others. */
function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortedError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise
      .finally(() => signal.removeEventListener('abort', onAbort))
      .then(resolve, reject);
  });
}

function abortedError(signal: AbortSignal): TokenError {
  return new TokenError('aborted', 'stopped waiting for a token: the caller aborted', { retryable: true, cause: signal.reason });
}
