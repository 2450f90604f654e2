/**
 * What went wrong while getting a token, as a stable string a program can switch on.
 *
 * - An OAuth 2.0 error code when the token endpoint sent one (`invalid_client`, `invalid_scope`,
 *   `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_target`, `invalid_request`, ...).
 * - `network`: the token endpoint could not be reached (connection refused, reset, DNS).
 * - `timeout`: no answer within `requestTimeoutMs`.
 * - `server_error`: HTTP 5xx, 408 or 429 from the token endpoint.
 * - `invalid_response`: an answer that is not a usable Bearer token (bad JSON, missing `access_token`,
 *   bad `expires_in`, another `token_type`, an unexpected status).
 * - `insecure_endpoint`: discovery named an `http://` token endpoint without `allowInsecureRequests`.
 * - `config`: a credential found unusable while getting a token (a key, secret, assertion or token
 *   file that cannot be read, is empty or malformed; a private key that cannot be imported; a
 *   credential function that failed or returned nothing), or a bad `getToken` option; the message
 *   names it.
 * - `closed`: the TokenManager was closed.
 * - `aborted`: the caller's `AbortSignal` fired before a token was ready.
 *
 * A bad option at construction (including an `http://` endpoint, or a key file that cannot be read
 * then) is not a `TokenError`: it throws `AuthConfigError`.
 */
export type TokenErrorCode =
  | 'invalid_client'
  | 'invalid_scope'
  | 'invalid_grant'
  | 'invalid_target'
  | 'invalid_request'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'network'
  | 'timeout'
  | 'server_error'
  | 'invalid_response'
  | 'insecure_endpoint'
  | 'config'
  | 'closed'
  | 'aborted'
  // Any other OAuth error code a server sends is passed through as is.
  | (string & {});

/** Options of {@link TokenError}. */
export interface TokenErrorOptions {
  /** Whether trying again later may succeed. Default `false`. */
  retryable?: boolean;
  /** HTTP status of the token endpoint's answer, when there was one. */
  status?: number;
  /** The underlying error. It is kept as a non-enumerable property so it never reaches JSON output. */
  cause?: unknown;
  /** Delay the token endpoint asked for with `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
}

/**
 * The one error type the token side rejects with. Its message says what failed and never contains a
 * client secret, private key, assertion or token.
 *
 * @example
 * ```ts
 * try {
 *   await tokens.getToken();
 * } catch (err) {
 *   if (err instanceof TokenError && err.code === 'invalid_client') alertOnCall('rotate the client secret');
 * }
 * ```
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  /** What went wrong; see {@link TokenErrorCode}. */
  readonly code: TokenErrorCode;
  /** Whether trying again later may succeed (network, timeout, 5xx, 408, 429). */
  readonly retryable: boolean;
  /** HTTP status of the token endpoint's answer, when there was one. */
  declare readonly status?: number;
  /** Delay the token endpoint asked for with `Retry-After`, in milliseconds. */
  declare readonly retryAfterMs?: number;

  constructor(code: TokenErrorCode, message: string, options: TokenErrorOptions = {}) {
    super(message);
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    // Non-enumerable: a cause from a library may carry a request body; keep it off JSON and inspect's
    // default view. It is still readable as `err.cause` for debugging.
    Object.defineProperty(this, 'cause', {
      value: options.cause,
      enumerable: false,
      writable: false,
      configurable: true,
    });
  }

  /** The fields a log line or an API response may carry. */
  toJSON(): { name: string; code: string; retryable: boolean; status?: number; message: string } {
    return {
      name: this.name,
      code: this.code,
      retryable: this.retryable,
      ...(this.status !== undefined ? { status: this.status } : {}),
      message: this.message,
    };
  }
}

/**
 * A `config` TokenError naming what is wrong: a credential found unusable while getting a token, or a
 * bad `getToken` option. A bad option at construction is an `AuthConfigError` instead.
 */
export function configError(message: string): TokenError {
  return new TokenError('config', message);
}
