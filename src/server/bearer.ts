// Reads the bearer token out of request metadata, refusing anything ambiguous before any parsing.
import type { Metadata } from '@grpc/grpc-js';
import { Denial } from './denial.js';

/** Default of `maxTokenBytes`: far above real access tokens (1-4 KB), far below what costs to parse. */
export const defaultMaxTokenBytes = 8192;

/** The three base64url parts of a compact JWS. A five-part JWE or anything else is not accepted. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The token of the call's one `authorization: Bearer <token>` value, or the {@link Denial} saying
 * what is wrong. The length is checked before anything else looks at the value, so a huge header
 * costs nothing to refuse; the scheme is matched case-insensitively (RFC 7235 §2.1).
 */
export function bearerTokenOf(metadata: Metadata, maxTokenBytes: number): string | Denial {
  const values = metadata.get('authorization');
  if (values.length === 0)
    return new Denial('missing_token', 'no bearer token: the call has no authorization metadata');
  // Two values sent on the wire never get here: Node's HTTP/2 layer keeps the first (docs/grpc-js-facts.md,
  // "Two authorization values on the wire reach a server as one"). This catches two that an interceptor adds.
  if (values.length > 1) return new Denial('multiple_authorization', 'more than one authorization value');
  const [value] = values;
  if (typeof value !== 'string') return new Denial('malformed_token', 'authorization is not text');
  // "Bearer " plus the token: the cap is on the token, the scheme's few bytes are allowed on top.
  if (value.length > maxTokenBytes + 16)
    return new Denial('token_too_large', `bearer token larger than ${maxTokenBytes} bytes`);
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') return new Denial('not_bearer', 'authorization is not a Bearer token');
  const token = space === -1 ? '' : value.slice(space + 1).trim();
  if (token.length > maxTokenBytes)
    return new Denial('token_too_large', `bearer token larger than ${maxTokenBytes} bytes`);
  if (!compactJws.test(token)) return new Denial('malformed_token', 'bearer token is not a signed JWT');
  return token;
}
