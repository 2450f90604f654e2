import type { AccessToken } from './access-token.js';
import { AuthConfigError } from '../common/config-error.js';

/** Options of {@link TokenProvider.getToken}. */
export interface GetTokenOptions {
  /**
   * Scopes to request; each distinct set (order does not matter) is cached separately.
   * Default: the manager's configured `scopes`.
   */
  scopes?: readonly string[];
  /** Stops waiting for a token (the shared request itself goes on for other callers). */
  signal?: AbortSignal;
}

/**
 * What the gRPC side needs from a token cache: a usable token now, and a way to drop one the server
 * rejected. {@link TokenManager} implements it.
 */
export interface TokenProvider {
  /** A token valid for at least a moment longer; rejects with a `TokenError`. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /**
   * Forget this token value if it is cached, so the next `getToken()` fetches a new one. Returns
   * `false` when the token was kept (not cached, or a forced refresh happened moments ago): the
   * gRPC side then does not make a rejected call again with the same token.
   */
  invalidate(accessToken: string): boolean | void;
  /**
   * The cached token when one is usable right now, else `undefined`; never waits and never throws.
   * Optional: it lets the gRPC side skip the asynchronous path on the common cache hit.
   */
  getCachedToken?(options?: Pick<GetTokenOptions, 'scopes'>): AccessToken | undefined;
}

/**
 * `tokens` when it is a {@link TokenProvider} (duck-typed: a `getToken` and an `invalidate`
 * function); else an AuthConfigError naming `caller`.
 *
 * @internal
 * @example
 * ```ts
 * const provider = checkTokenProvider(tokens, 'createAuthInterceptor');
 * ```
 */
export function checkTokenProvider(tokens: unknown, caller: string): TokenProvider {
  const candidate = tokens as Partial<TokenProvider> | null | undefined;
  if (typeof candidate?.getToken !== 'function' || typeof candidate.invalidate !== 'function') {
    throw new AuthConfigError(`${caller}: tokens must be a TokenProvider such as a TokenManager`);
  }
  return candidate as TokenProvider;
}
