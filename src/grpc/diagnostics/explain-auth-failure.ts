import { status } from '@grpc/grpc-js';
import { describeThrown } from '../../common/describe.js';
import { TokenError } from '../../token/errors.js';
import { containsSecret, redactSecrets, secretForms } from '../../common/redact.js';
import { audiencesOfClaims, scopesOfClaims, unverifiedJwt } from '../../token/unverified-claims.js';
import { TokenCallError } from '../status.js';
import { callRecordOf, type CallRecord } from './call-record.js';
import { describeDuration } from './describe-duration.js';
import { redactCredentials } from './metadata-view.js';
import {
  reasonOf,
  reasonTrailer,
  scopeRuleTrailer,
  scopeTrailer,
  wantedScopesOf,
} from '../../calls/denial-trailers.js';
import { escapeControlCharacters } from '../../common/printable.js';

/** What {@link explainAuthFailure} says about a call. Never holds the token or a secret. */
export interface AuthFailureExplanation {
  /** The full method path, `/pkg.Service/Method`. */
  readonly method: string;
  /** The call's status code: `UNAUTHENTICATED` or `PERMISSION_DENIED`, or `UNAVAILABLE` / `DEADLINE_EXCEEDED` when the token step failed. */
  readonly code: status;
  /** Whether the call carried an `authorization` header: ours, or the caller's own. */
  readonly tokenAttached: boolean;
  /** How long the token we sent was still valid when the call ended, in milliseconds (negative: expired); `undefined` without one. */
  readonly tokenExpiresInMs: number | undefined;
  /** The scopes the call asked the token provider for; `undefined` when unknown. */
  readonly scopesRequested: readonly string[] | undefined;
  /** The scopes the token carries (its `scope` / `scp` claim, else what the token endpoint said it granted). */
  readonly scopesGranted: readonly string[] | undefined;
  /** The token's `aud` claim (decoded, not verified). */
  readonly audience: readonly string[] | undefined;
  /** The call was made a second time with a fresh token after `UNAUTHENTICATED`. */
  readonly replayed: boolean;
  /**
   * The server's reason, from its `grpc-oauth2-reason` trailer (this SDK's `./server` sends one), if any
   * and if it is a reason code (lower-case letters and `_`): anything else there is not copied.
   */
  readonly serverReason: string | undefined;
  /** One line a person can act on; control characters from the server are escaped (`\r` shows as `\\r`). */
  readonly hint: string;
}

/**
 * Why a call that went through {@link createAuthInterceptor} ended `UNAUTHENTICATED` or
 * `PERMISSION_DENIED` (or `UNAVAILABLE` / `DEADLINE_EXCEEDED` because of its token), built from
 * what the interceptor recorded about that call: whether and which token it attached, its scopes,
 * expiry and audience (decoded, not verified), whether it replayed the call, and why it could not
 * get a token; plus the reason a `./server` interceptor sent in its trailers.
 *
 * `undefined` for every other error, and for calls that did not go through the interceptor (calls
 * made with `createChannelCredentials` included: grpc-js tells call credentials nothing about the call).
 *
 * @param err - the error a grpc-js call ended with (`ServiceError`).
 * @example
 * ```ts
 * client.getOrder(request, (err, order) => {
 *   if (err) console.error(explainAuthFailure(err)?.hint ?? err.message);
 *   // "the token lacked scope orders.write; it was requested with orders.read"
 * });
 * ```
 */
export function explainAuthFailure(err: unknown): AuthFailureExplanation | undefined {
  const record = callRecordOf(err);
  if (record === undefined) return undefined;
  const metadata = (err as { metadata: { get(key: string): unknown[] } }).metadata;
  const token = record.sentToken;
  // A server may echo what it was sent: the token we attached goes, in every form, as well as anything
  // credential-shaped; its trailers are read only when they hold what they should.
  const sentAccessToken = typeof token?.accessToken === 'string' ? token.accessToken : undefined;
  const echoed = sentAccessToken === undefined ? [] : secretForms(sentAccessToken);
  const serverReason = reasonOf(trailer(metadata, reasonTrailer));
  const scopes = wantedScopesOf(trailer(metadata, scopeTrailer));
  const wantedScopes = scopes?.some((scope) => containsSecret(scope, echoed)) ? undefined : scopes;
  const anyOf = trailer(metadata, scopeRuleTrailer) === 'any_of';
  const jwt = token === undefined ? undefined : unverifiedJwt(token.accessToken);
  const expiresAtMs =
    token?.expiresAt instanceof Date
      ? token.expiresAt.getTime()
      : typeof jwt?.claims.exp === 'number'
        ? jwt.claims.exp * 1000
        : undefined;
  const facts = {
    method: record.method,
    code: record.code,
    tokenAttached: token !== undefined || record.callerAuthorization,
    tokenExpiresInMs: expiresAtMs === undefined ? undefined : expiresAtMs - record.endedAtMs,
    scopesRequested: record.scopesRequested,
    scopesGranted:
      (jwt && scopesOfClaims(jwt.claims)) ?? (Array.isArray(token?.scopes) ? (token.scopes as string[]) : undefined),
    audience: jwt && audiencesOfClaims(jwt.claims),
    replayed: record.replayed,
    serverReason,
  };
  const rawDetails = (err as { details?: unknown }).details;
  const details = redactCredentials(redactSecrets(typeof rawDetails === 'string' ? rawDetails : '', echoed));
  return {
    ...facts,
    // What the server (and the token's claims) said goes into one line: no line breaks or escape sequences of theirs.
    hint: escapeControlCharacters(
      hintFor(record, facts, { wantedScopes, anyOf, details, issuer: jwt?.claims.iss, subject: jwt?.claims.sub }),
    ),
  };
}

type Facts = Omit<AuthFailureExplanation, 'hint'>;

interface ServerSide {
  readonly wantedScopes: readonly string[] | undefined;
  /** The method takes any one of `wantedScopes` (a `{ anyOf }` rule), not all of them. */
  readonly anyOf: boolean;
  readonly details: string;
  readonly issuer: string | undefined;
  readonly subject: string | undefined;
}

function hintFor(record: CallRecord, facts: Facts, server: ServerSide): string {
  if (record.failure !== undefined) return noTokenHint(record.failure, facts);
  if (record.endedWaiting)
    return 'no token was attached: the call ended (its deadline passed) while it waited for a token; check the token endpoint (NODE_DEBUG=grpc-oauth2) or give the call a longer deadline';
  // The A43 policy decides by the caller's certificate, the method and headers, with or without a token.
  if (facts.serverReason === 'policy_denied')
    return `the server's authorization policy (gRFC A43) denied ${facts.method}: a deny rule matched, or no allow rule did; its principals come from the client certificate (URI SAN, else DNS SAN, else subject), so check the certificate this channel presents and the policy's rules for the method`;
  if (!facts.tokenAttached)
    return `the call carried no authorization header, and the server answered ${status[record.code]}: ${server.details}`;
  if (record.callerAuthorization)
    return "the call carried the caller's own authorization header, so the interceptor attached none; it is that header the server refused";
  const again = facts.replayed ? '; it was made again with a fresh token and refused again' : '';
  return (record.code === status.PERMISSION_DENIED ? deniedHint(facts, server) : rejectedHint(facts, server)) + again;
}

function noTokenHint(failure: unknown, facts: Facts): string {
  const scopes = list(facts.scopesRequested);
  if (failure instanceof TokenError) {
    switch (failure.code) {
      case 'network':
      case 'timeout':
      case 'server_error':
        return `no token was attached: the token endpoint failed (${failure.code}): ${failure.message}`;
      case 'aborted':
        return 'no token was attached: the call ended (deadline or cancellation) while it waited for a token; give it a longer deadline or check the token endpoint';
      case 'config':
      case 'insecure_endpoint':
        return `no token was attached: the TokenManager is misconfigured: ${failure.message}`;
      case 'closed':
        return 'no token was attached: the TokenManager was closed';
      case 'invalid_scope':
        return `no token was attached: the token endpoint answered invalid_scope for ${scopes}; the client may not get those scopes`;
      case 'invalid_client':
        return 'no token was attached: the token endpoint answered invalid_client; check the client id and its secret or key';
      default:
        return `no token was attached: the token endpoint answered ${failure.code}`;
    }
  }
  if (failure instanceof TokenCallError) return `no token was attached: ${failure.details}`;
  return `no token was attached: the token provider failed with ${describeThrown(failure)}`;
}

function deniedHint(facts: Facts, server: ServerSide): string {
  const missing = server.wantedScopes?.filter((scope) => !facts.scopesGranted?.includes(scope));
  if (server.wantedScopes !== undefined || facts.serverReason === 'missing_scope') {
    const granted = sameSet(facts.scopesGranted, facts.scopesRequested)
      ? ''
      : ` and granted ${list(facts.scopesGranted)}`;
    const requested = `it was requested with ${list(facts.scopesRequested)}${granted}`;
    if (server.anyOf && server.wantedScopes?.length)
      return `the token lacked a scope the method needs: it needs one of ${server.wantedScopes.join(', ')}; ${requested}`;
    const lacked = missing?.length
      ? `scope${missing.length > 1 ? 's' : ''} ${missing.join(' ')}`
      : 'a scope the method needs';
    return `the token lacked ${lacked}; ${requested}`;
  }
  if (facts.serverReason === 'method_not_in_policy')
    return `the server's policy does not name ${facts.method} (it denies by default); add the method to the server's policy`;
  const who = server.subject === undefined ? 'this client' : `client ${server.subject}`;
  if (facts.serverReason === 'authorize_denied')
    return `the server's authorization check denied ${who} for ${facts.method}; ask for the role or permission it requires`;
  return (
    `the server denied ${facts.method} to ${who} with a token valid for ${describeDuration(facts.tokenExpiresInMs, true)} carrying ${list(facts.scopesGranted)}: ` +
    `if the method needs another scope, request it (scopesFor); otherwise the server's policy (RBAC) does not let ${who} in`
  );
}

function rejectedHint(facts: Facts, server: ServerSide): string {
  const left = facts.tokenExpiresInMs;
  const valid = `valid for ${describeDuration(left, true)}`;
  const audience = `audience ${list(facts.audience)}`;
  if (left !== undefined && left <= 0)
    return `the token had expired ${describeDuration(-left)} before the call ended; a stream that outlives its token must be opened again`;
  switch (facts.serverReason) {
    case 'token_expired':
      return `the server says the token expired, but it was ${valid} by this machine's clock: check the clocks of client, server and issuer (drift)`;
    case 'token_not_yet_valid':
      return "the server says the token is not valid yet: its clock is behind the issuer's; check clock drift";
    case 'wrong_audience':
      return `the server expects another audience than the token's ${audience}; set audience (OAUTH2_AUDIENCE) to the one the server verifies`;
    case 'unknown_issuer':
      return `the server accepts no token from the token's issuer; add it to the server's issuers, or point the client at an issuer the server accepts (${server.issuer ?? 'none'})`;
    case 'token_inactive':
      return "the server's introspection says the token is not active (revoked or expired at the issuer); a fresh token should pass";
    case 'wrong_issuer':
      return `the server expects another issuer than the token's (${server.issuer ?? 'none'}); point client and server at the same issuer`;
    case 'unknown_key':
    case 'bad_signature':
    case 'algorithm_not_allowed':
      return `the server could not verify the token's signature (${facts.serverReason}); does it trust the keys of issuer ${server.issuer ?? '(none)'}?`;
    case 'certificate_mismatch':
      return "the token is bound to a client certificate (RFC 8705) other than the one this connection presented: fetch tokens with the certificate the channel uses (tlsClientCertificate = the channel's certFile and keyFile); after a renewal the next token is bound to the new one";
    case 'token_not_bound':
      return "the server takes only bound tokens for this method: certificate-bound ones over mutual TLS (clientAuthMethod 'tls_client_auth' with tlsClientCertificate, and a channel with the same certificate), or DPoP-bound ones (RFC 9449) when the server sets dpop: 'required'; the DPoP scheme carries bound tokens only";
    case 'dpop_missing':
      return "the token is DPoP-bound (RFC 9449): send it as 'authorization: DPoP <token>' with a fresh dpop proof per call, never as Bearer";
    case 'dpop_invalid':
      return "the server refused the call's DPoP proof (the status details name the check): one dpop value per call, typ dpop+jwt, an asymmetric alg, the public jwk, htm POST, htu https://<the authority dialled>/<package.Service>/<Method> without query, a current iat, a jti, and ath, the token's hash";
    case 'dpop_replayed':
      return 'the DPoP proof was used before: sign a fresh proof (new jti) for every call';
    case 'dpop_key_mismatch':
      return 'the DPoP proof is signed by another key than the token is bound to (its cnf.jkt): sign proofs with the key the token was requested with, and get a new token after changing keys';
    case 'stream_token_expired':
      return 'the stream outlived its token (the server ends streams when the token expires); open a new stream';
    case undefined:
      return `the server rejected a token that was ${valid}: check its ${audience} and issuer ${server.issuer ?? '(none)'}`;
    default:
      return `the server rejected the token (${facts.serverReason}): ${server.details}`;
  }
}

function trailer(metadata: { get(key: string): unknown[] } | undefined, key: string): string | undefined {
  const value = metadata?.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

function list(scopes: readonly string[] | undefined): string {
  if (scopes === undefined) return '(unknown)';
  return scopes.length === 0 ? '(none)' : scopes.join(' ');
}

function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((scope) => b.includes(scope));
}
