/**
 * The trailers with which `./server` says why it refused a call, and what a client makes of them
 * (`explainAuthFailure`, the grpc-js and Connect interceptors): one place, so the two sides cannot
 * drift apart. Plain strings; no transport.
 */

/** Trailer naming the reason of a refused call, e.g. `grpc-oauth2-reason: missing_scope`. */
export const reasonTrailer = 'grpc-oauth2-reason';

/** Trailer listing, space-separated, the scopes a `missing_scope` refusal wanted (the RFC 6750 `scope` idea). */
export const scopeTrailer = 'grpc-oauth2-scope';

/**
 * Trailer saying how the scopes of {@link scopeTrailer} were wanted: `all_of` (every one: the token
 * lacked those listed) or `any_of` (a `{ anyOf }` rule: one of them would do). Sent with the scopes.
 */
export const scopeRuleTrailer = 'grpc-oauth2-scope-rule';

/** The values of {@link scopeRuleTrailer}. */
export type ScopeRule = 'all_of' | 'any_of';

/** A reason code as `./server` writes them. Anything else a server puts there is not taken as a reason. */
const reasonCode = /^[a-z_]{1,64}$/;

/**
 * Reasons for which a fresh token from the same configuration may succeed where the refused one did
 * not: it had expired (the server's clock may be ahead, or a stream outlived it), it was signed by a
 * key the server does not know (a key rotation: the next one is signed by the new key), or it was
 * revoked (or introspection calls it inactive). Every other reason (`wrong_audience`, `malformed_token`, `wrong_issuer`, ...) would refuse
 * the next token too.
 */
const reasonsANewTokenMayFix: ReadonlySet<string> = new Set([
  'token_expired',
  'stream_token_expired',
  'unknown_key',
  'token_revoked',
  // Introspection answered `active: false`: revoked or expired at the issuer; a fresh token is active.
  'token_inactive',
  // Bound to the client certificate the caller had before a renewal: a token fetched with the renewed
  // certificate is bound to it.
  'certificate_mismatch',
]);

/**
 * The server's reason from the value of its {@link reasonTrailer}, when it is a reason code
 * (lower-case letters and `_`); `undefined` otherwise: a server may put anything there, the refused
 * token included, and nothing else is copied into an explanation or used to decide a replay.
 *
 * @internal
 * @example
 * ```ts
 * reasonOf(error.metadata.get(reasonTrailer)[0]); // 'wrong_audience', or undefined
 * ```
 */
export function reasonOf(value: unknown): string | undefined {
  return typeof value === 'string' && reasonCode.test(value) ? value : undefined;
}

/** A scope value (RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`), of a sane length. */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/;
/** The start of a JWT: no scope looks like one, an echoed token does. */
const jwtLike = /eyJ[\w-]*\./;

/**
 * The scopes of a {@link scopeTrailer} value, when every one is scope-shaped (RFC 6749 scope-tokens,
 * none longer than 256 characters or JWT-like); `undefined` otherwise: a trailer that holds anything
 * else (an echoed token, a sentence) is not read at all. The caller still removes a value that is the
 * token it sent, which only it knows.
 *
 * @internal
 * @example
 * ```ts
 * wantedScopesOf('orders.write orders.admin'); // ['orders.write', 'orders.admin']
 * wantedScopesOf('orders "write"'); // undefined
 * ```
 */
export function wantedScopesOf(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const scopes = value.split(' ').filter((scope) => scope !== '');
  if (scopes.length === 0 || !scopes.every((scope) => scopeToken.test(scope) && !jwtLike.test(scope))) return undefined;
  return scopes;
}

/**
 * Whether a call refused `UNAUTHENTICATED` for `reason` is worth a fresh token (invalidating the
 * refused one, and making the call again where it can be). Without a reason (a server that does not
 * send one) it is, as it always was; with one, only for the reasons a new token can fix.
 *
 * @internal
 * @example
 * ```ts
 * newTokenMayHelp('wrong_audience'); // false: the next token has the same audience
 * newTokenMayHelp(undefined); // true
 * ```
 */
export function newTokenMayHelp(reason: string | undefined): boolean {
  return reason === undefined || reasonsANewTokenMayFix.has(reason);
}
