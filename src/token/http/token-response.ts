import { decodeJwt } from 'jose';
import { TokenError } from './errors.js';
import { AccessToken } from './access-token.js';

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
}

/**
 * Checks an answer and builds the token, with its expiry from, in order: `expires_in` counted from
 * when the request was sent (so network latency can never make a token outlive its real expiry); the
 * JWT's `exp`, moved by the clock difference the `Date` header shows; `defaultLifetimeMs`.
 */
export function tokenFromAnswer(answer: TokenEndpointAnswer, timing: AnswerTiming, policy: ExpiryPolicy): AccessToken {
  const invalid = (what: string): TokenError =>
    new TokenError('invalid_response', `token endpoint ${policy.endpoint} sent ${what}`, { retryable: true });

  const accessToken = answer.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) throw invalid('no access_token');
  // openid-client lower-cases token_type; compare case-insensitively all the same.
  if (typeof answer.token_type !== 'string' || answer.token_type.toLowerCase() !== 'bearer') {
    throw invalid(`token_type ${describeValue(answer.token_type)}, not Bearer`);
  }

  const expiresAtMs = expiryFromAnswer(answer, accessToken, timing, policy, invalid);
  if (expiresAtMs <= timing.receivedAtMs) throw invalid('a token that had already expired when it arrived');

  const scopes =
    typeof answer.scope === 'string' && answer.scope.trim() !== ''
      ? answer.scope.trim().split(/\s+/)
      : policy.requestedScopes;
  return new AccessToken(accessToken, new Date(expiresAtMs), scopes);
}

function expiryFromAnswer(
  answer: TokenEndpointAnswer,
  accessToken: string,
  timing: AnswerTiming,
  policy: ExpiryPolicy,
  invalid: (what: string) => TokenError,
): number {
  const expiresIn = answer.expires_in;
  if (expiresIn !== undefined && expiresIn !== null) {
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0 || expiresIn > maxLifetimeSec) {
      throw invalid(`expires_in ${describeValue(expiresIn)}; expected seconds between 1 and ${maxLifetimeSec}`);
    }
    return timing.sentAtMs + expiresIn * 1000;
  }
  const exp = jwtExpiry(accessToken);
  if (exp !== undefined) {
    // The server's clock is ahead by skewMs: its "exp" falls that much earlier on our clock.
    const skewMs = timing.serverDateMs === undefined ? 0 : timing.serverDateMs - timing.receivedAtMs;
    const lifetimeSec = (exp * 1000 - (timing.serverDateMs ?? timing.receivedAtMs)) / 1000;
    if (!Number.isFinite(exp) || lifetimeSec > maxLifetimeSec) throw invalid(`a JWT exp ${describeValue(exp)} too far ahead`);
    return exp * 1000 - skewMs;
  }
  return timing.sentAtMs + policy.defaultLifetimeMs;
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
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return `of type ${typeof value}`;
}
