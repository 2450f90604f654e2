// The ConnectErrors a call ends with when the interceptor cannot send it with a token. Same words as
// the grpc-js side (src/calls/call-failure-messages.ts); only the codes are Connect's.
import { Code, ConnectError } from '@connectrpc/connect';
import { TokenError } from '../token/errors.js';
import { newTokenMayHelp, reasonOf, reasonTrailer } from '../calls/denial-trailers.js';
import {
  callEndedMessage,
  describeTokenFailure,
  dpopTokenMessage,
  noOtherTokenMessage,
  unusableTokenMessage,
} from '../calls/call-failure-messages.js';

/**
 * Maps a failure to get a token to the error the call ends with: a retryable `TokenError` (network,
 * timeout, HTTP 5xx/408/429) → `Unavailable`, any other → `Unauthenticated`. The message names the
 * token endpoint and OAuth error code, never a secret; a `TokenError` is kept as `cause` (it redacts
 * itself), anything else (a custom provider's bug) is reported by name only and not kept.
 *
 * @internal
 * @example
 * ```ts
 * throw tokenFailureError(error); // ConnectError [unavailable] no OAuth2 access token (network): ...
 * ```
 */
export function tokenFailureError(error: unknown): ConnectError {
  const { retryable, message } = describeTokenFailure(error);
  const cause = error instanceof TokenError ? error : undefined;
  return new ConnectError(message, retryable ? Code.Unavailable : Code.Unauthenticated, undefined, undefined, cause);
}

/**
 * The call's signal ended (deadline, cancellation) while it waited for a token: the call ends with the
 * signal's code (`DeadlineExceeded` for `timeoutMs`, `Canceled` for an abort).
 *
 * @internal
 * @example
 * ```ts
 * if (request.signal.aborted) throw callEndedError(request.signal);
 * ```
 */
export function callEndedError(signal: AbortSignal): ConnectError {
  return new ConnectError(callEndedMessage, ConnectError.from(signal.reason, Code.Canceled).code);
}

/**
 * The provider returned a token that cannot go into an `authorization` header.
 *
 * @internal
 * @example
 * ```ts
 * if (bearer === 'malformed') throw unusableTokenError(); // Unauthenticated
 * ```
 */
export function unusableTokenError(): ConnectError {
  return new ConnectError(unusableTokenMessage, Code.Unauthenticated);
}

/**
 * The provider returned a DPoP-bound token, which cannot be sent until per-RPC DPoP proofs are:
 * `Internal`, never retried.
 *
 * @internal
 * @example
 * ```ts
 * if (bearer === 'dpop') throw dpopTokenError(); // Internal
 * ```
 */
export function dpopTokenError(): ConnectError {
  return new ConnectError(dpopTokenMessage, Code.Internal);
}

/**
 * A replay found only the token the server had just rejected: the call is not sent again.
 *
 * @internal
 * @example
 * ```ts
 * if (bearer.accessToken === rejected) throw noOtherTokenError(); // Unauthenticated
 * ```
 */
export function noOtherTokenError(): ConnectError {
  return new ConnectError(noOtherTokenMessage, Code.Unauthenticated);
}

/**
 * A user callback (`scopesFor`, `retryOnUnauthenticated`) failed for a method: `Internal`, since it is
 * a bug in the application, not in the token server or the network.
 *
 * @internal
 * @example
 * ```ts
 * throw misconfiguredMethodError("scopesFor('/orders.v1.Orders/Get') threw RangeError");
 * ```
 */
export function misconfiguredMethodError(problem: string): ConnectError {
  return new ConnectError(
    `createConnectAuthInterceptor: ${problem}; no call of this method is sent until it is fixed`,
    Code.Internal,
  );
}

/**
 * Whether an error is the server's `Unauthenticated` refusing a token for a reason a new token may fix:
 * its `grpc-oauth2-reason` (a trailer on the gRPC protocol, a header or error metadata on Connect's)
 * names such a reason, or there is none. `wrong_audience`, `malformed_token` and the like are not.
 *
 * @internal
 * @example
 * ```ts
 * if (newTokenMayFix(error)) tokens.invalidate(accessToken);
 * ```
 */
export function newTokenMayFix(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    error.code === Code.Unauthenticated &&
    newTokenMayHelp(reasonOf(error.metadata.get(reasonTrailer)))
  );
}
