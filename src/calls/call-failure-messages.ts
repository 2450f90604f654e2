// What a call reports when it could not be sent with a token, in words shared by every transport
// (grpc-js statuses in src/grpc/status.ts, ConnectErrors in src/connect/errors.ts): each side only
// picks its own code. Nothing here imports a transport.
import { TokenError } from '../token/errors.js';

/** A token failure as a call reports it: whether trying again may help, and what to say. */
export interface TokenFailureDescription {
  /** True for a retryable `TokenError` (network, timeout, HTTP 5xx/408/429): the call may succeed later. */
  readonly retryable: boolean;
  /** What failed: the token endpoint and the OAuth error code, never a token or secret. */
  readonly message: string;
}

/**
 * Describes a failure to get a token. A `TokenError`'s message already names the token endpoint and
 * the OAuth error code and never holds a secret, so it is passed on as is. Anything else (a custom
 * `TokenProvider`'s bug) is reported by its name only: its message is not ours to vouch for and might
 * contain a secret; it counts as not retryable.
 *
 * @internal
 * @example
 * ```ts
 * describeTokenFailure(new TokenError('invalid_client', 'token endpoint https://auth.example.com/token answered HTTP 401 invalid_client'));
 * // { retryable: false, message: 'no OAuth2 access token (invalid_client): token endpoint ... answered HTTP 401 invalid_client' }
 * ```
 */
export function describeTokenFailure(error: unknown): TokenFailureDescription {
  if (error instanceof TokenError)
    return { retryable: error.retryable, message: `no OAuth2 access token (${error.code}): ${error.message}` };
  const name = error instanceof Error ? error.name : typeof error;
  return {
    retryable: false,
    message: `no OAuth2 access token: the token provider failed with ${name} (message withheld)`,
  };
}

/** A call that ended (deadline, cancellation) while it waited for a token. @internal */
export const callEndedMessage = 'the call ended (deadline passed or cancelled) before an OAuth2 access token was ready';

/** A token the provider returned that cannot go into an `authorization` header. @internal */
export const unusableTokenMessage =
  'no OAuth2 access token: the token provider returned an empty token or one with characters not allowed in a header';

/** A DPoP-bound token (TokenManager `dpop`), which the clients cannot send yet. @internal */
export const dpopTokenMessage =
  'the OAuth2 access token is DPoP-bound (TokenManager dpop option) and per-RPC DPoP proofs are not supported yet; ' +
  'the call was not sent (remove the dpop option to get bearer tokens)';

/**
 * A replay that found only the token the server had just rejected (the TokenManager limits how often
 * a rejected token forces a refresh). @internal
 */
export const noOtherTokenMessage =
  'the server rejected the OAuth2 access token (UNAUTHENTICATED) and no other token is available yet; the call was not sent again';
