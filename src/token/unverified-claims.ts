import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

/** The header and claims of a JWT, read without checking its signature. */
export interface UnverifiedJwt {
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload;
}

/**
 * The header and claims of `token` when it is a JWT (jose's decoders; the signature is NOT checked),
 * else `undefined` (an opaque token, or text that only looks like a JWT). For display and
 * diagnostics only: nothing read here may decide whether to trust a token.
 *
 * @example
 * ```ts
 * unverifiedJwt(token.accessToken)?.claims.exp; // seconds since the epoch, unverified
 * ```
 */
export function unverifiedJwt(token: string): UnverifiedJwt | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return undefined;
  }
}

/**
 * The scopes a JWT access token carries: its `scope` claim (space-separated, RFC 9068 and RFC 8693),
 * else an `scp` array or string (as Azure AD and Okta write it); `undefined` when it has neither.
 *
 * @example
 * ```ts
 * scopesOfClaims({ scope: 'orders.read orders.write' }); // ['orders.read', 'orders.write']
 * ```
 */
export function scopesOfClaims(claims: JWTPayload): readonly string[] | undefined {
  const value = claims.scope ?? claims.scp;
  if (typeof value === 'string') return value.split(/\s+/).filter((scope) => scope !== '');
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === 'string');
  return undefined;
}

/**
 * The audiences of a JWT's `aud` claim as one list; `undefined` without one.
 *
 * @example
 * ```ts
 * audiencesOfClaims({ aud: 'https://orders.example.com' }); // ['https://orders.example.com']
 * ```
 */
export function audiencesOfClaims(claims: JWTPayload): readonly string[] | undefined {
  const { aud } = claims;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud : undefined;
}

/** The furthest a `Date` reaches either side of 1970 (ECMAScript's 8.64e15 ms), in seconds. */
const maxDateSec = 8.64e12;

/**
 * A time claim (`exp`, `iat`, `nbf`: seconds since the epoch) as an ISO date, or `undefined` when it is
 * no number or one no `Date` can hold (`9e15`, `-1e300`, `Infinity`), which `toISOString()` would
 * throw on.
 *
 * @example
 * ```ts
 * isoDateOfClaim(1_900_000_000); // '2030-03-17T17:46:40.000Z'
 * isoDateOfClaim(9e15); // undefined
 * ```
 */
export function isoDateOfClaim(seconds: unknown): string | undefined {
  return typeof seconds === 'number' && Math.abs(seconds) <= maxDateSec
    ? new Date(seconds * 1000).toISOString()
    : undefined;
}
