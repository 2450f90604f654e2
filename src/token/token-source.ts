import { within, type Clock } from '../common/clock.js';
import { TokenError } from './errors.js';

/** What a {@link TokenSource} is asked for. */
export interface TokenRequest {
  /** Scopes to request (sorted, no duplicates); empty for the server's default. */
  readonly scopes: readonly string[];
  /** Sent as the `audience` parameter when set. */
  readonly audience?: string;
  /** Sent as the `resource` parameter (RFC 8707) when set. */
  readonly resource?: string;
  /** Aborts the request when the manager closes. */
  readonly signal: AbortSignal;
}

/** A token as a {@link TokenSource} delivers it. */
export interface SourcedToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  /** Scopes granted; defaults to the scopes requested. */
  readonly scopes?: readonly string[];
}

/**
 * The seam every way of getting a token plugs into: OAuth2 client credentials, a service-account key
 * with the JWT-bearer grant, or a test fake. {@link TokenManager} wraps any source with caching,
 * single flight, background refresh and retries; a source does one attempt and throws on failure
 * (ideally a `TokenError`, so that the manager knows whether to retry).
 *
 * @example
 * ```ts
 * const tokens = new TokenManager({
 *   tokenSource: { endpoint: 'static', fetchToken: async () => ({ accessToken: 'dev', expiresAt: new Date(Date.now() + 3_600_000) }) },
 * });
 * ```
 */
export interface TokenSource {
  /** Where tokens come from, as safe to print (no credentials). Used in error messages. */
  readonly endpoint: string;
  /**
   * Which client this source gets tokens for (token endpoint and client id, never a secret), so that
   * a shared cache keeps the tokens of different clients apart. Required with `sharedCache`.
   */
  readonly cacheIdentity?: string;
  /** One attempt at a token. */
  fetchToken(request: TokenRequest): Promise<SourcedToken>;
  /**
   * Reads credentials kept in files again; resolves `true` when they changed. The manager calls it
   * when the server answers `invalid_client` or `invalid_grant`, so a rotated secret is picked up
   * without a restart.
   */
  reloadCredentials?(): Promise<boolean>;
  /** Values to scrub from any text the server sends back (secrets the source holds). */
  secretValues?(): Iterable<string>;
}

/**
 * `source` with each `fetchToken()` bounded by `timeoutMs` on `clock`: a user's source that never
 * settles would otherwise hold its scope set's one refresh forever. The late answer is dropped.
 */
export function boundedSource(source: TokenSource, clock: Clock, timeoutMs: number): TokenSource {
  const timedOut = (): TokenError =>
    new TokenError('timeout', `token source ${source.endpoint} did not answer within ${timeoutMs} ms`, {
      retryable: true,
    });
  return Object.create(source, {
    fetchToken: { value: (request: TokenRequest) => within(source.fetchToken(request), clock, timeoutMs, timedOut) },
  }) as TokenSource;
}
