import { credentials, Metadata, type CallCredentials } from '@grpc/grpc-js';
import { normalizeScopes } from '../token/scopes.js';
import type { GetTokenOptions, TokenProvider } from '../token/token-provider.js';
import { tokenFailureStatus, unusableTokenStatus } from './status.js';

/**
 * Options of {@link createCallCredentials} and {@link createChannelCredentials}.
 *
 * @example
 * ```ts
 * const options: CallCredentialsOptions = { scopes: ['orders.read', 'orders.write'] };
 * ```
 */
export interface CallCredentialsOptions {
  /**
   * Scopes to request for every call made with these credentials; the TokenManager caches each
   * distinct set separately. Default: the TokenManager's configured `scopes`.
   */
  scopes?: readonly string[];
}

/**
 * Per-RPC call credentials that put `authorization: Bearer <token>` on every call, with the token
 * from `tokens` (a {@link TokenManager}: cached, refreshed ahead of expiry, one request shared by
 * concurrent calls).
 *
 * When no token can be had, the call ends without reaching the server, with `UNAVAILABLE` when trying
 * again may help (token endpoint down, timed out, HTTP 5xx) and `UNAUTHENTICATED` when it will not
 * (`invalid_client`, `invalid_scope`, misconfiguration). The status details name the token endpoint
 * and the OAuth error code, never a secret.
 *
 * These are the raw credentials, for composing yourself. Prefer {@link createChannelCredentials}:
 * grpc-js sends per-call credentials (`CallOptions.credentials`) even over a plaintext channel, while
 * credentials composed into the channel credentials are refused for an insecure channel.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { TokenManager, createCallCredentials } from 'grpc-oauth2-credentials';
 *
 * const tokens = new TokenManager({ tokenEndpoint, clientId, clientSecret, scopes: ['orders.read'] });
 * const callCredentials = createCallCredentials(tokens, { scopes: ['orders.write'] });
 * const channelCredentials = grpc.credentials.combineChannelCredentials(
 *   grpc.credentials.createSsl(ca),
 *   callCredentials,
 * );
 * ```
 */
export function createCallCredentials(tokens: TokenProvider, options: CallCredentialsOptions = {}): CallCredentials {
  if (typeof tokens?.getToken !== 'function' || typeof tokens.invalidate !== 'function') {
    throw new TypeError('createCallCredentials: tokens must be a TokenProvider such as a TokenManager');
  }
  // Checked and frozen once here: a frozen array lets the TokenManager skip sorting it on every call.
  const getTokenOptions: GetTokenOptions | undefined =
    options?.scopes === undefined ? undefined : { scopes: normalizeScopes(options.scopes, 'createCallCredentials scopes') };
  return credentials.createFromMetadataGenerator((_params, callback) => {
    // Always call back with a Metadata or an error with a code: grpc-js rejects a generator's
    // `cb(null, undefined)` with `null`, and its handler then crashes the process (experiment exp5b).
    bearerHeader(tokens, getTokenOptions).then(
      ({ header }) => {
        const metadata = new Metadata();
        metadata.set('authorization', header);
        callback(null, metadata);
      },
      (error: unknown) => callback(tokenFailureStatus(error)),
    );
  });
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
export async function bearerHeader(
  tokens: TokenProvider,
  getTokenOptions: GetTokenOptions | undefined,
): Promise<{ readonly accessToken: string; readonly header: string }> {
  // Typed as unknown: a custom TokenProvider may resolve with anything.
  const token: unknown = await tokens.getToken(getTokenOptions);
  // grpc-js's own header check would throw with the value in its message; check first so a malformed
  // token never reaches an error text.
  const header = typeof token === 'object' && token !== null ? bearerValueFor(token) : undefined;
  if (header === undefined) throw unusableTokenStatus();
  return { accessToken: (token as { readonly accessToken: string }).accessToken, header };
}

const headerSafeToken = /^[\x21-\x7E]+$/;

/** `authorization` values already built and checked, per cached token object. */
const bearerValues = new WeakMap<object, string | null>();

/**
 * `Bearer <token>` for a cached token, checked to fit in a header, built once per token object (the
 * same object is handed out for every call until the next refresh); `undefined` when it cannot be sent.
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
