import { fetchBearerHeader, type BearerHeader } from '../calls/bearer-value.js';
import type { GetTokenOptions, TokenProvider } from '../token/token-provider.js';
import { dpopTokenStatus, unusableTokenStatus } from './status.js';

export { bearerValueFor, type BearerHeader, type SentToken } from '../calls/bearer-value.js';

/**
 * The token to send and its `authorization` value, from `tokens`, checked to fit in a header. Rejects
 * with the provider's error, or with a `TokenCallError` for a token that cannot be sent (malformed, or DPoP-bound).
 *
 * @internal
 * @example
 * ```ts
 * metadata.set('authorization', (await bearerHeader(tokens, { scopes: ['orders.read'] })).header);
 * ```
 */
export async function bearerHeader(
  tokens: TokenProvider,
  getTokenOptions: GetTokenOptions | undefined,
): Promise<BearerHeader> {
  const bearer = await fetchBearerHeader(tokens, getTokenOptions);
  if (bearer === 'dpop') throw dpopTokenStatus();
  if (bearer === 'malformed') throw unusableTokenStatus();
  return bearer;
}
