import { configuredScopes } from './scopes.js';
import { EventEmitter } from 'node:events';
import type { AccessToken } from './access-token.js';
import { manyListenerController } from '../common/clock.js';
import { checkOptionNames } from '../common/option-checks.js';
import { AuthConfigError } from '../common/config-error.js';
import { configError } from './errors.js';
import { safeEmitter, type Emit, type TokenManagerEvents } from './events.js';

import { optionsFromEnv, type FromEnvOverrides } from './from-env.js';
import { TokenLifecycle } from './lifecycle/token-lifecycle.js';
import {
  resolveOptions,
  type ResolvedOptions,
  type ServiceAccountOptions,
  type TokenManagerOptions,
} from './options.js';
import type { ScopeSetCycler } from './cache/scope-set-cycler.js';
import { ScopeSets } from './cache/scope-sets.js';
import { TokenFetcher, closedError } from './cache/token-fetcher.js';
import {
  createTokenSource,
  sourceSettings,
  tokenFileSource,
  tokenSourceFromKeyFile,
  type SourceSettings,
  type TokenFileOptions,
} from './sources/create-source.js';
import { boundedSource, type TokenSource } from './token-source.js';
import { StatsRecorder, type TokenManagerStats } from './cache/stats.js';
import type { GetTokenOptions, TokenProvider } from './token-provider.js';
import { abortedError } from './cache/wait.js';

const getTokenOptionNames = ['scopes', 'signal'] as const satisfies readonly (keyof GetTokenOptions)[];

/**
 * Gets OAuth2 access tokens for a service account and keeps one ready for every scope set in use.
 *
 * - Concurrent callers share one request per scope set (1,000 cold callers, one request).
 * - A token is refreshed in the background `refreshBeforeExpiryMs` before it expires (less a random
 *   spread of up to 10% of that margin, so a fleet started together spreads its refreshes); callers
 *   keep getting the cached token meanwhile and never wait on the network while one is usable.
 * - Retryable failures are retried with jittered exponential backoff, honouring `Retry-After`; the
 *   cached token is served through an outage until it expires. A caller without a usable token waits
 *   at most `maxWaitMs` (or until its signal aborts), then gets the latest error.
 * - Fatal answers (`invalid_client`, `invalid_scope`, ...) are not retried at once: they are
 *   remembered for 1 min, doubling up to 15 min as they recur, so they never become a request per
 *   call, and a process recovers by itself once the server is fixed.
 *
 * At most 1,000 scope sets are held; the least recently used one goes first.
 *
 * Events (`tokenIssued`, `refreshFailed`, `fatalFailure`, `sharedCacheFailed`) are also published on
 * `node:diagnostics_channel`; none is named `'error'`, so none can crash the process unheard.
 * Timers are unref'd: a manager never keeps the process alive, except that a caller waiting for a
 * token keeps it up for at most `maxWaitMs`, so that a one-shot script's `catch` runs.
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
  readonly #fetcher: TokenFetcher;
  readonly #scopeSets: ScopeSets;
  readonly #closeController = manyListenerController();
  readonly #stats = new StatsRecorder();
  /** Debug lines and telemetry; undefined when neither is on. */
  readonly #lifecycle: TokenLifecycle | undefined;

  /**
   * The token source is `tokenSource`, else one built from the OAuth client options.
   *
   * @throws AuthConfigError naming the bad option.
   */
  constructor(options: TokenManagerOptions) {
    super();
    const sourceFor = factorySource;
    factorySource = undefined;
    this.#options = resolveOptions(options);
    const settings = sourceSettings(this.#options);
    const { clock, requestTimeoutMs } = this.#options;
    const { tokenSource } = options;
    if (tokenSource !== undefined && typeof tokenSource?.fetchToken !== 'function')
      throw new AuthConfigError('tokenSource must have a fetchToken() method');
    const source =
      sourceFor?.(settings) ??
      (tokenSource && boundedSource(tokenSource, clock, requestTimeoutMs)) ??
      createTokenSource(options, settings);
    if (this.#options.sharedCache !== undefined && source.cacheIdentity === undefined) {
      throw new AuthConfigError(
        'sharedCache needs a tokenSource with a cacheIdentity (which client it gets tokens for)',
      );
    }
    this.#lifecycle = TokenLifecycle.create({
      endpoint: () => source.endpoint,
      clock,
      closeSignal: this.#closeController.signal,
    });
    const emit: Emit = this.#lifecycle?.emitting(safeEmitter(this)) ?? safeEmitter(this);
    const shared = { options: this.#options, stats: this.#stats, emit, lifecycle: this.#lifecycle };
    const closeSignal = this.#closeController.signal;
    this.#fetcher = new TokenFetcher({ ...shared, source, closeSignal });
    const { scopes, audience, resource } = this.#options;
    this.#scopeSets = new ScopeSets(
      scopes,
      { audience, resource },
      {
        ...shared,
        fetcher: this.#fetcher,
        closeSignal,
        onIdle: (scopeSet) => this.#scopeSets.evict(scopeSet),
        onFatalFailureSeen: () => this.#checkForRotatedCredentials(),
      },
    );
    configuredScopes.set(this, this.#options.scopes);
  }

  /**
   * A manager for a JSON key file: a Google-format service-account key (`type: "service_account"`,
   * used with the JWT-bearer grant of RFC 7523) or an OAuth2 client file (`client_id`, `client_secret`
   * or `private_key`, `token_endpoint` or `issuer`). The file is read again when the token server
   * answers `invalid_client` or `invalid_grant`, so a rotated key is picked up without a restart.
   *
   * @throws AuthConfigError naming the missing or malformed field.
   * @example
   * ```ts
   * const tokens = TokenManager.fromServiceAccountFile('/var/run/secrets/orders-sa.json', { scopes: ['orders.read'] });
   * ```
   */
  static fromServiceAccountFile(path: string, options: ServiceAccountOptions = {}): TokenManager {
    return withSource((settings) => tokenSourceFromKeyFile(path, settings), options);
  }

  /**
   * A manager serving the access token another agent keeps fresh in a file (as gRFC A97), read again
   * when it changes and before it expires; expiry from the JWT's `exp` (else `defaultLifetimeMs`).
   * @throws AuthConfigError for a bad path or option. @example `TokenManager.fromTokenFile('/var/run/secrets/tokens/access-token')`
   */
  static fromTokenFile(path: string, options: TokenFileOptions = {}): TokenManager {
    return withSource(tokenFileSource(path, options), options);
  }

  /**
   * A manager configured by `OAUTH2_*` environment variables (see docs/cli.md): `OAUTH2_ISSUER` or
   * `OAUTH2_TOKEN_ENDPOINT`, `OAUTH2_CLIENT_ID`, one of `OAUTH2_CLIENT_SECRET`, `OAUTH2_CLIENT_SECRET_FILE`,
   * `OAUTH2_PRIVATE_KEY_FILE`, `OAUTH2_CLIENT_ASSERTION_FILE` or `OAUTH2_TLS_CERT_FILE` (with
   * `OAUTH2_TLS_KEY_FILE`, and `OAUTH2_TLS_CA_FILE` if needed: `tlsClientCertificate`), and optionally `OAUTH2_SCOPES`
   * (space-separated), `OAUTH2_AUDIENCE`, `OAUTH2_RESOURCE`, `OAUTH2_ALLOW_INSECURE_REQUESTS` (`true`|`false`).
   * `overrides` win over the environment (a credential or endpoint given there replaces the environment's).
   *
   * @throws AuthConfigError naming the missing, misspelled or contradictory variable (never its value).
   * @example
   * ```ts
   * const tokens = TokenManager.fromEnv({ maxWaitMs: 5_000 });
   * ```
   */
  static fromEnv(overrides?: FromEnvOverrides): TokenManager {
    return new TokenManager(optionsFromEnv(process.env, overrides));
  }

  /**
   * A token for the configured scopes, or for `options.scopes`. Resolves at once from the cache while
   * a usable token is held; otherwise joins (or starts) the one shared request for that scope set,
   * for at most `maxWaitMs`.
   *
   * @throws TokenError: the last failure when no usable token is cached; `closed` after `close()`;
   * `aborted` when `options.signal` fires first; `config` for bad options.
   */
  getToken(options?: GetTokenOptions): Promise<AccessToken> {
    if (this.#closeController.signal.aborted) return Promise.reject(closedError());
    let scopeSet: ScopeSetCycler;
    try {
      scopeSet = this.#scopeSetFor(options, 'getToken');
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : configError('getToken options are invalid'));
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return scopeSet.getToken(signal);
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
    try {
      return this.#scopeSetFor(options, 'getCachedToken').cachedToken();
    } catch {
      return undefined;
    }
  }

  /**
   * Drops `accessToken` from the cache (the server rejected it), so the next `getToken()` for its
   * scope set fetches a new one. Forced refreshes are rate-limited: at most one per scope set every
   * 30 s, so a server that rejects every token causes a handful of token requests, not one per call.
   * Without an argument, drops every token and every remembered failure, including a fatal one (call
   * it after fixing the configuration the server refused); that is never rate-limited.
   *
   * @returns whether a token was dropped.
   */
  invalidate(accessToken?: string): boolean {
    let dropped = false;
    for (const scopeSet of this.#scopeSets.values()) dropped = scopeSet.invalidate(accessToken) || dropped;
    return dropped;
  }

  /** Counters and timings no token server reports; cheap to call. */
  stats(): TokenManagerStats {
    let cachedTokens = 0;
    for (const scopeSet of this.#scopeSets.values()) if (scopeSet.isUsable) cachedTokens++;
    return this.#stats.snapshot(cachedTokens, this.#scopeSets.size);
  }

  /**
   * Stops background refreshes, aborts requests in flight and rejects every later `getToken()` with
   * a `closed` TokenError. Idempotent.
   */
  close(): void {
    if (this.#closeController.signal.aborted) return;
    this.#closeController.abort(closedError());
    this.#scopeSets.clear();
  }

  /** Same as {@link TokenManager.close}, for `using tokens = new TokenManager(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The scope set for a call's options, checked: unknown option names and a non-signal fail. */
  #scopeSetFor(options: GetTokenOptions | undefined, caller: string): ScopeSetCycler {
    if (options === undefined) return this.#scopeSets.default;
    checkOptionNames(options, getTokenOptionNames, `${caller} option`, configError);
    const { scopes, signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw configError(`${caller} signal must be an AbortSignal`);
    return scopes === undefined ? this.#scopeSets.default : this.#scopeSets.entryFor(scopes, `${caller} scopes`);
  }

  #checkForRotatedCredentials(): void {
    this.#fetcher.checkForRotatedCredentials(() => {
      for (const scopeSet of this.#scopeSets.values()) scopeSet.forgetFatalFailure();
    });
  }
}

/**
 * The source a static factory builds from the checked settings, handed to the constructor it calls
 * next. Module-private rather than a constructor parameter, so that the public constructor takes the
 * options alone.
 */
let factorySource: ((settings: SourceSettings) => TokenSource) | undefined;

function withSource(sourceFor: (settings: SourceSettings) => TokenSource, options: TokenManagerOptions): TokenManager {
  factorySource = sourceFor;
  try {
    return new TokenManager(options);
  } finally {
    factorySource = undefined;
  }
}
