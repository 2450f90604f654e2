// Why a call was refused, as a stable code, a short sentence and the gRPC status a client gets.
// No transport here: the grpc-js interceptor and the Connect one each turn a Denial into their own status.
import type { ScopeRule } from '../calls/denial-trailers.js';

/**
 * The gRPC status codes a decision ends with. The numbers are fixed by the gRPC protocol, and
 * Connect's `Code` uses the same ones; written here so that the Connect side never loads grpc-js.
 */
export const statusCode = Object.freeze({
  OK: 0,
  PERMISSION_DENIED: 7,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
});

/**
 * Why the server interceptor refused a call. Sent to the client in the trailer
 * {@link reasonTrailer} and given to `onDecision`; stable, so that programs can switch on it.
 *
 * `UNAUTHENTICATED`: `missing_token`, `multiple_authorization`, `not_bearer`, `token_too_large`,
 * `malformed_token`, `algorithm_not_allowed`, `unknown_key`, `bad_signature`, `token_expired`,
 * `token_not_yet_valid`, `wrong_issuer`, `wrong_audience`, `wrong_token_type`, `invalid_claims`,
 * `stream_token_expired`, `unknown_issuer` (a JWT whose `iss` no configured issuer has), `token_inactive`
 * (introspection answered `active: false`), `certificate_mismatch` (a token bound to a client certificate,
 * RFC 8705, from a connection without that certificate), `token_not_bound` (an unbound token for a method
 * in `requireBoundTokens`, on a server with `dpop: 'required'`, or under the `DPoP` scheme), `dpop_missing`
 * (a DPoP-bound token, RFC 9449, without a `dpop` proof or under the `Bearer` scheme), `dpop_invalid` (the
 * proof fails a check: two values, size, shape, `typ`, `alg`, a private `jwk`, signature, `htm`, `htu`,
 * `iat`, `jti`, `ath`), `dpop_replayed` (a proof whose key and `jti` were seen before within its window),
 * `dpop_key_mismatch` (the proof's key is not the one the token's `cnf.jkt` names). `PERMISSION_DENIED`: `missing_scope`, `method_not_in_policy`,
 * `authorize_denied`, `policy_denied` (a gRFC A43 authorization policy refused the call). `UNAVAILABLE`: `keys_unavailable`,
 * `introspection_unavailable` (the introspection endpoint could not answer). `INTERNAL`: `authorize_failed`.
 */
export type DenialReason =
  | 'missing_token'
  | 'multiple_authorization'
  | 'not_bearer'
  | 'token_too_large'
  | 'malformed_token'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_token_type'
  | 'invalid_claims'
  | 'stream_token_expired'
  | 'missing_scope'
  | 'method_not_in_policy'
  | 'authorize_denied'
  | 'keys_unavailable'
  | 'authorize_failed'
  | 'unknown_issuer'
  | 'token_inactive'
  | 'introspection_unavailable'
  | 'certificate_mismatch'
  | 'token_not_bound'
  | 'policy_denied'
  | 'dpop_missing'
  | 'dpop_invalid'
  | 'dpop_replayed'
  | 'dpop_key_mismatch';

const permissionReasons = new Set<DenialReason>([
  'missing_scope',
  'method_not_in_policy',
  'authorize_denied',
  'policy_denied',
]);

/** The gRPC status code a denial ends the call with. */
export function statusOf(reason: DenialReason): number {
  if (permissionReasons.has(reason)) return statusCode.PERMISSION_DENIED;
  if (reason === 'keys_unavailable' || reason === 'introspection_unavailable') return statusCode.UNAVAILABLE;
  if (reason === 'authorize_failed') return statusCode.INTERNAL;
  return statusCode.UNAUTHENTICATED;
}

/**
 * A refusal: its reason, the status details a client reads (a short sentence, never the token or
 * anything copied from it), for `missing_scope` the scopes wanted and whether all or one of them, and
 * what only the server's own logs get (`internalDetails`: which of the IdP's URLs failed, and how; else
 * the same as `details`).
 */
export class Denial {
  /** The gRPC status code (Connect's `Code` has the same number). */
  readonly code: number;

  constructor(
    readonly reason: DenialReason,
    readonly details: string,
    readonly scopes: readonly string[] = [],
    readonly internalDetails: string = details,
    readonly scopeRule: ScopeRule = 'all_of',
  ) {
    this.code = statusOf(reason);
  }
}

/** The refusal of a stream whose token expired while it was open (both transports). */
export const streamExpired = new Denial(
  'stream_token_expired',
  'bearer token expired during the stream; open a new call with a fresh token',
);

/** The refusal of a call no decision came for: only a bug of this package reaches it (decide() never rejects). */
export const undecided = new Denial('authorize_failed', 'the server could not decide the call');
