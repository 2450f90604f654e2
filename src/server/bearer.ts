// Reads the bearer token out of a call's authorization values, refusing anything ambiguous before any parsing.
import { Denial } from './denial.js';

/** Default of `maxTokenBytes`: far above real access tokens (1-4 KB), far below what costs to parse. */
export const defaultMaxTokenBytes = 8192;

/** The three base64url parts of a compact JWS. A five-part JWE is not one. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether `token` has the shape of a compact JWS (a JWT access token); anything else is opaque. */
export function isCompactJws(token: string): boolean {
  return compactJws.test(token);
}

/** RFC 6750 §2.1 `b64token`: the characters a bearer token may have. */
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Whether `token` has the characters of RFC 6750 `b64token`. Asked only for a token not in the
 * verified-token cache (one that is verified, and a regex over the whole token costs about 0.5 µs).
 */
export function isB64Token(token: string): boolean {
  return b64token.test(token);
}

/** The token of a call's authorization value, and whether it came under the `DPoP` scheme (RFC 9449 §7.1). */
export interface PresentedToken {
  readonly token: string;
  readonly isDpop: boolean;
}

/**
 * The token of the call's one `authorization: Bearer <token>` or `authorization: DPoP <token>` value
 * (`values`: every authorization value the call carries), or the {@link Denial} saying what is wrong. The length is checked before
 * anything else looks at the value, so a huge header costs nothing to refuse; the scheme is matched
 * case-insensitively (RFC 7235 §2.1). Whether the token has the characters of a token ({@link isB64Token})
 * and whether it is a JWT or an opaque token ({@link isCompactJws}) is for the caller to tell.
 */
export function bearerTokenOf(values: readonly unknown[], maxTokenBytes: number): PresentedToken | Denial {
  if (values.length === 0)
    return new Denial('missing_token', 'no bearer token: the call has no authorization metadata');
  // Two values sent on the wire never get here: Node's HTTP/2 layer keeps the first (docs/grpc-js-facts.md,
  // "Two authorization values on the wire reach a server as one"). This catches two that an interceptor adds.
  if (values.length > 1) return new Denial('multiple_authorization', 'more than one authorization value');
  const [value] = values;
  if (typeof value !== 'string') return new Denial('malformed_token', 'authorization is not text');
  // "Bearer " or "DPoP " plus the token: the cap is on the token, the scheme's few bytes are allowed on top.
  if (value.length > maxTokenBytes + 16)
    return new Denial('token_too_large', `bearer token larger than ${maxTokenBytes} bytes`);
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  const lowerScheme = scheme.toLowerCase();
  if (lowerScheme !== 'bearer' && lowerScheme !== 'dpop')
    return new Denial('not_bearer', 'authorization is neither a Bearer nor a DPoP token');
  const token = space === -1 ? '' : value.slice(space + 1).trim();
  if (token.length > maxTokenBytes)
    return new Denial('token_too_large', `bearer token larger than ${maxTokenBytes} bytes`);
  return { token, isDpop: lowerScheme === 'dpop' };
}
