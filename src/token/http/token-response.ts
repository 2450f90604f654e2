import { decodeJwt } from 'jose';
import { TokenError } from '../errors.js';
import { AccessToken } from '../access-token.js';

/** The longest `expires_in` accepted: a year. Anything longer is treated as a broken answer. */
export const maxLifetimeSec = 365 * 24 * 3600;

/** The members of a token endpoint's answer we read (openid-client has already checked their types). */
export interface TokenEndpointAnswer {
  readonly access_token?: unknown;
  readonly token_type?: unknown;
  readonly expires_in?: unknown;
  readonly scope?: unknown;
}

/** When and how the answer arrived, for computing expiry. */
export interface AnswerTiming {
  /** Local time at which the request was sent, in ms since the epoch. */
  readonly sentAtMs: number;
  /** Local time at which the answer arrived, in ms since the epoch. */
  readonly receivedAtMs: number;
  /** The answer's `Date` header, in ms since the epoch, if it had a readable one. */
  readonly serverDateMs?: number;
}

/** Settings of {@link tokenFromAnswer}. */
export interface ExpiryPolicy {
  /** Lifetime assumed when neither `expires_in` nor a JWT `exp` is present, in milliseconds. */
  readonly defaultLifetimeMs: number;
  /** The scopes requested, reported when the answer has no `scope`. */
  readonly requestedScopes: readonly string[];
  /** The endpoint as safe to print. */
  readonly endpoint: string;
  /** Set when the request asked for a DPoP-bound token: a `DPoP` answer is expected. Default: Bearer expected. */
  readonly dpop?: { readonly acceptBearer: boolean };
}

/**
 * Checks an answer and builds the token. It expires at the earliest of: `expires_in` counted from when
 * the request was sent (so network latency can never make a token outlive its real expiry), and the
 * JWT's `exp` when the token is a JWT, moved earlier by as much as the `Date` header shows the
 * server's clock to be ahead of ours. With neither, `defaultLifetimeMs` from the send.
 */
export function tokenFromAnswer(answer: TokenEndpointAnswer, timing: AnswerTiming, policy: ExpiryPolicy): AccessToken {
  const invalid = (what: string): TokenError =>
    new TokenError('invalid_response', `token endpoint ${policy.endpoint} sent ${what}`, { retryable: true });

  const accessToken = answer.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) throw invalid('no access_token');
  const tokenType = checkedTokenType(answer.token_type, policy, invalid);

  const byExpiresIn = expiresInExpiryMs(answer.expires_in, timing, invalid);
  const byJwt = jwtExpiryMs(accessToken, timing, invalid);
  const expiresAtMs =
    byExpiresIn === undefined && byJwt === undefined
      ? timing.sentAtMs + policy.defaultLifetimeMs
      : Math.min(byExpiresIn ?? Infinity, byJwt ?? Infinity);
  if (expiresAtMs <= timing.receivedAtMs) throw invalid('a token that had already expired when it arrived');

  const scopes =
    typeof answer.scope === 'string' && answer.scope.trim() !== ''
      ? answer.scope.trim().split(/\s+/)
      : policy.requestedScopes;
  return new AccessToken(accessToken, new Date(expiresAtMs), scopes, tokenType);
}

/**
 * `Bearer` for a bearer request's answer; `DPoP` for a DPoP request's, or `Bearer` there only when
 * `acceptBearer` says so (a server that ignores DPoP would otherwise hand out a token anyone may use).
 */
function checkedTokenType(
  tokenType: unknown,
  policy: ExpiryPolicy,
  invalid: (what: string) => TokenError,
): 'Bearer' | 'DPoP' {
  // openid-client lower-cases token_type; compare case-insensitively all the same.
  const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : undefined;
  if (policy.dpop === undefined) {
    if (type !== 'bearer') throw invalid(`token_type ${describeValue(tokenType)}, not Bearer`);
    return 'Bearer';
  }
  if (type === 'dpop') return 'DPoP';
  if (type === 'bearer' && policy.dpop.acceptBearer) return 'Bearer';
  throw new TokenError(
    'invalid_response',
    `token endpoint ${policy.endpoint} answered a DPoP token request with token_type ${describeValue(tokenType)}, not DPoP` +
      (type === 'bearer' ? ' (set dpop.acceptBearer to accept bearer tokens)' : ''),
  );
}

function expiresInExpiryMs(
  expiresIn: unknown,
  timing: AnswerTiming,
  invalid: (what: string) => TokenError,
): number | undefined {
  if (expiresIn === undefined || expiresIn === null) return undefined;
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0 || expiresIn > maxLifetimeSec) {
    throw invalid(`expires_in ${describeValue(expiresIn)}; expected seconds between 1 and ${maxLifetimeSec}`);
  }
  return timing.sentAtMs + expiresIn * 1000;
}

/**
 * The JWT's `exp` on our clock. A server whose `Date` is ahead of us stamps `exp` that much late, so
 * it moves earlier; a `Date` behind ours never moves it later: a stale or wrong `Date` (a caching
 * proxy, a server clock set back) must not stretch a token past the `exp` it carries.
 */
function jwtExpiryMs(
  accessToken: string,
  timing: AnswerTiming,
  invalid: (what: string) => TokenError,
): number | undefined {
  const exp = jwtExpiry(accessToken);
  if (exp === undefined) return undefined;
  const serverAheadMs = timing.serverDateMs === undefined ? 0 : Math.max(0, timing.serverDateMs - timing.receivedAtMs);
  const expiresAtMs = exp * 1000 - serverAheadMs;
  if (!Number.isFinite(expiresAtMs) || expiresAtMs - timing.receivedAtMs > maxLifetimeSec * 1000) {
    throw invalid(`a JWT exp ${describeValue(exp)} too far ahead`);
  }
  return expiresAtMs;
}

/** The `exp` claim of a JWT access token, or undefined for an opaque token or a JWT without one. */
function jwtExpiry(accessToken: string): number | undefined {
  if (accessToken.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(accessToken);
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  return `of type ${typeof value}`;
}
