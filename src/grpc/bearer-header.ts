import type { GetTokenOptions, TokenProvider } from '../token/token-provider.js';
import { unusableTokenStatus } from './status.js';

/** The token an attempt sends, and its `authorization` value. */
export interface BearerHeader {
  readonly accessToken: string;
  readonly header: string;
}

/**
 * The token to send and its `authorization` value, from `tokens`, checked to fit in a header. Rejects
 * with the provider's error, or with a `TokenCallError` for a token that cannot be sent.
 *
 * @internal
 * @example
 * ```ts
 * metadata.set('authorization', (await bearerHeader(tokens, { scopes: ['orders.read'] })).header);
 * ```
 */
export async function bearerHeader(tokens: TokenProvider, getTokenOptions: GetTokenOptions | undefined): Promise<BearerHeader> {
  // Typed as unknown: a custom TokenProvider may resolve with anything.
  const token: unknown = await tokens.getToken(getTokenOptions);
  const header = typeof token === 'object' && token !== null ? bearerValueFor(token) : undefined;
  if (header === undefined) throw unusableTokenStatus();
  return { accessToken: (token as { readonly accessToken: string }).accessToken, header };
}

const headerSafeToken = /^[\x21-\x7E]+$/;

/** `authorization` values already built and checked, per cached token object. */
const bearerValues = new WeakMap<object, string | null>();

/**
 * `Bearer <token>` for a token object, checked to fit in a header, built once per token object (the
 * TokenManager hands out the same object for every call until the next refresh); `undefined` when it
 * cannot be sent. The check comes first because grpc-js's own header check would throw with the
 * value in its message, and a malformed token must never reach an error text.
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
    value = typeof accessToken === 'string' && headerSafeToken.test(accessToken) ? `Bearer ${accessToken}` : null;
    bearerValues.set(token, value);
  }
  return value ?? undefined;
}
