import { status } from '@grpc/grpc-js';
import {
  callEndedMessage,
  describeTokenFailure,
  dpopTokenMessage,
  noOtherTokenMessage,
  unusableTokenMessage,
} from '../calls/call-failure-messages.js';

/**
 * The error a metadata generator hands back to grpc-js when it cannot attach a token.
 * Internal: users see only the call's status.
 *
 * grpc-js turns it into the call's status: it keeps a numeric `code` that gRFC A54 allows for
 * control-plane failures (1, 2, 4, 7, 8, 12, 13, 14, 16; others become `INTERNAL`) and sets the
 * details to `Getting metadata from plugin failed with error: <message>`. A plain `Error` without a
 * code becomes `UNKNOWN`, which is why every failure goes through {@link tokenFailureStatus}
 * (docs/grpc-js-facts.md, "Generator errors and their codes").
 *
 * @example
 * ```ts
 * callback(new TokenCallError(grpc.status.UNAVAILABLE, 'no OAuth2 access token (network): ...'));
 * ```
 */
export class TokenCallError extends Error {
  override readonly name = 'TokenCallError';
  /** `UNAVAILABLE`, `UNAUTHENTICATED`, `DEADLINE_EXCEEDED` or `INTERNAL`. */
  readonly code: status;
  /** Same text as `message`: what failed, never a token or secret. */
  readonly details: string;

  constructor(code: status, details: string) {
    super(details);
    this.code = code;
    this.details = details;
  }
}

/**
 * Maps a failure to get a token to the status the gRPC call ends with.
 *
 * - A retryable `TokenError` (network, timeout, HTTP 5xx/408/429) → `UNAVAILABLE`, so a gRPC retry
 *   policy or the caller's own backoff applies.
 * - Any other `TokenError` (`invalid_client`, `invalid_scope`, misconfiguration, a closed manager)
 *   → `UNAUTHENTICATED`: trying again will not help until someone fixes the configuration.
 * - Anything that is not a `TokenError` (a custom `TokenProvider`'s bug) → `UNAUTHENTICATED`, with
 *   only the error's name: its message is not ours to vouch for, and might contain a secret.
 *
 * The message of a `TokenError` already names the token endpoint and the OAuth error code and never
 * contains a secret, so it is passed on as is.
 *
 * @example
 * ```ts
 * const error = tokenFailureStatus(new TokenError('invalid_client', 'token endpoint https://auth.example.com/token answered HTTP 401 invalid_client'));
 * error.code === grpc.status.UNAUTHENTICATED; // true
 * error.details; // 'no OAuth2 access token (invalid_client): token endpoint https://auth.example.com/token answered HTTP 401 invalid_client'
 * ```
 */
export function tokenFailureStatus(error: unknown): TokenCallError {
  if (error instanceof TokenCallError) return error;
  const { retryable, message } = describeTokenFailure(error);
  return callError(retryable ? status.UNAVAILABLE : status.UNAUTHENTICATED, message);
}

/**
 * The status reported for a call that ended (deadline, cancellation) while it waited for a token.
 * grpc-js has already ended the call by then and drops it; `DEADLINE_EXCEEDED` names the usual cause.
 *
 * @example
 * ```ts
 * if (signal.aborted) throw callEndedStatus(); // code DEADLINE_EXCEEDED
 * ```
 */
export function callEndedStatus(): TokenCallError {
  return callError(status.DEADLINE_EXCEEDED, callEndedMessage);
}

/**
 * The status for a token the provider returned but that cannot go into an `authorization` header.
 *
 * @example
 * ```ts
 * if (!/^[\x21-\x7E]+$/.test(accessToken)) throw unusableTokenStatus(); // code UNAUTHENTICATED
 * ```
 */
export function unusableTokenStatus(): TokenCallError {
  return callError(status.UNAUTHENTICATED, unusableTokenMessage);
}

/**
 * The status for a DPoP-bound token, which cannot be sent until per-RPC DPoP proofs are: `INTERNAL`
 * (a client configuration the SDK does not serve yet, not the server's refusal; never retried).
 *
 * @example
 * ```ts
 * if (bearer === 'dpop') throw dpopTokenStatus(); // code INTERNAL
 * ```
 */
export function dpopTokenStatus(): TokenCallError {
  return callError(status.INTERNAL, dpopTokenMessage);
}

/**
 * The status of every call of a method the interceptor cannot serve because a user callback
 * (`scopesFor`, `retryOnUnauthenticated`) failed for it: `INTERNAL`, since it is a bug in the
 * application, not in the token server or the network. `problem` says what failed; it never holds the
 * callback's own error message, which is not ours to vouch for.
 *
 * @example
 * ```ts
 * misconfiguredMethodStatus("scopesFor('/orders.v1.Orders/Get') threw RangeError"); // code INTERNAL
 * ```
 */
export function misconfiguredMethodStatus(problem: string): TokenCallError {
  return callError(
    status.INTERNAL,
    `createAuthInterceptor: ${problem}; no call of this method is sent until it is fixed`,
  );
}

/**
 * The status of a replay that found only the token the server had just rejected (the TokenManager
 * limits how often a rejected token forces a refresh): the call ends without being sent again.
 *
 * @example
 * ```ts
 * if (accessToken === rejectedAccessToken) throw noOtherTokenStatus(); // code UNAUTHENTICATED
 * ```
 */
export function noOtherTokenStatus(): TokenCallError {
  return callError(status.UNAUTHENTICATED, noOtherTokenMessage);
}

function callError(code: status, details: string): TokenCallError {
  return new TokenCallError(code, details);
}
