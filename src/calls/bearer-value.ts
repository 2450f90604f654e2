// The `authorization: Bearer <token>` value (RFC 6750) every transport sends, checked to fit in a
// header, and built once per token object. Shared by src/grpc and src/connect; imports no transport.
import type { GetTokenOptions, TokenProvider } from '../token/token-provider.js';

/** A token object as a provider returns it (an `AccessToken` for a TokenManager); kept for diagnostics. */
export interface SentToken {
  readonly accessToken: string;
  readonly expiresAt?: unknown;
  readonly scopes?: unknown;
}

/** The token an attempt sends, and its `authorization` value. */
export interface BearerHeader {
  readonly accessToken: string;
  readonly header: string;
  /** The provider's token object. */
  readonly token: SentToken;
}

/**
 * Why a token the provider resolved with cannot be sent: `'malformed'` (not a token object, or not
 * header-safe) or `'dpop'` (DPoP-bound, RFC 9449: it needs a proof per RPC, which the clients do not
 * send yet, and must never go out as a bearer token).
 */
export type UnsendableToken = 'malformed' | 'dpop';

/**
 * The token to send and its `authorization` value, from `tokens`; why not when the provider
 * resolved with something that cannot be sent (each transport reports that in its own way). Rejects
 * with the provider's error.
 *
 * @internal
 * @example
 * ```ts
 * const bearer = await fetchBearerHeader(tokens, { scopes: ['orders.read'], signal });
 * if (typeof bearer === 'object') headers.set('authorization', bearer.header);
 * ```
 */
export async function fetchBearerHeader(
  tokens: TokenProvider,
  getTokenOptions: GetTokenOptions | undefined,
): Promise<BearerHeader | UnsendableToken> {
  // Typed as unknown: a custom TokenProvider may resolve with anything.
  const token: unknown = await tokens.getToken(getTokenOptions);
  if (isDpopBound(token)) return 'dpop';
  const header = typeof token === 'object' && token !== null ? bearerValueFor(token) : undefined;
  return header === undefined
    ? 'malformed'
    : { accessToken: (token as SentToken).accessToken, header, token: token as SentToken };
}

/** A token object whose `tokenType` is `'DPoP'` (an `AccessToken` from a TokenManager with `dpop`). */
function isDpopBound(token: unknown): boolean {
  return typeof token === 'object' && token !== null && (token as { tokenType?: unknown }).tokenType === 'DPoP';
}

const headerSafeToken = /^[\x21-\x7E]+$/;

/** `authorization` values already built and checked, per cached token object. */
const bearerValues = new WeakMap<object, string | null>();

/**
 * `Bearer <token>` for a token object, checked to fit in a header, built once per token object (the
 * TokenManager hands out the same object for every call until the next refresh); `undefined` when it
 * cannot be sent. The check comes first because the transports' own header checks (grpc-js's,
 * undici's `Headers`) throw with the value in their message, and a malformed token must never reach
 * an error text.
 *
 * @internal
 * @example
 * ```ts
 * const value = bearerValueFor(tokens.getCachedToken()); // 'Bearer eyJ...'
 * ```
 */
export function bearerValueFor(token: { readonly accessToken?: unknown }): string | undefined {
  let value = bearerValues.get(token);
  if (value === undefined) {
    const { accessToken } = token;
    const sendable = typeof accessToken === 'string' && headerSafeToken.test(accessToken) && !isDpopBound(token);
    value = sendable ? `Bearer ${accessToken}` : null;
    bearerValues.set(token, value);
  }
  return value ?? undefined;
}
