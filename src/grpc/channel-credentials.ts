import type { ChannelCredentials } from '@grpc/grpc-js';
import { checkOptionNames } from '../common/option-checks.js';
import { checkTokenProvider, type TokenProvider } from '../token/token-provider.js';
import { getTokenOptionsFor, tokenCallCredentials } from './call-credentials.js';
import { checkChannelSecurity } from './channel-security.js';

/**
 * Options of {@link createChannelCredentials}.
 *
 * @example
 * ```ts
 * const options: ChannelCredentialsOptions = { scopes: ['orders.read', 'orders.write'] };
 * ```
 */
export interface ChannelCredentialsOptions {
  /**
   * Scopes to request for every call made over the channel; the TokenManager caches each distinct set
   * separately. Default: the TokenManager's configured `scopes`.
   */
  scopes?: readonly string[];
}

const channelCredentialsOptionNames = ['scopes'] as const;

/**
 * TLS channel credentials that also put `authorization: Bearer <token>` on every call made over the
 * channel, unary and streaming. This is the safest way to attach tokens: grpc-js itself refuses to
 * compose call credentials with insecure channel credentials, and this function refuses them first
 * with an {@link InsecureChannelError} that says what to do.
 *
 * Do not also set `authorization` yourself (in call metadata or per-call credentials): grpc-js fails a
 * call that carries two `authorization` values and drops the connection with it, ending every other
 * call on that connection. Use {@link createAuthInterceptor} if some calls need their own header.
 *
 * @param channelCredentials - secure channel credentials, e.g. `grpc.credentials.createSsl(ca)`.
 * @param tokens - where tokens come from, normally a {@link TokenManager}.
 * @param options - `scopes` to request; default: the TokenManager's configured scopes.
 * @throws InsecureChannelError when `channelCredentials` are insecure.
 * @throws AuthConfigError for an unknown or mistyped option (the message names it).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { TokenManager, createChannelCredentials } from 'grpc-oauth2-credentials';
 *
 * const tokens = new TokenManager({ tokenEndpoint, clientId, clientSecret, scopes: ['orders.read'] });
 * const client = new OrdersClient('orders.example.com:443', createChannelCredentials(grpc.credentials.createSsl(), tokens));
 * client.getOrder({ id: '42' }, (err, order) => { ... }); // carries authorization: Bearer <token>
 * ```
 */
export function createChannelCredentials(
  channelCredentials: ChannelCredentials,
  tokens: TokenProvider,
  options: ChannelCredentialsOptions = {},
): ChannelCredentials {
  const caller = 'createChannelCredentials';
  const provider = checkTokenProvider(tokens, caller);
  checkOptionNames(options, channelCredentialsOptionNames, `${caller} option`);
  const getTokenOptions = getTokenOptionsFor(options?.scopes, caller);
  // Checked before compose(): grpc-js's own error ("Cannot compose insecure credentials") does not
  // say why or what to do.
  const secure = checkChannelSecurity(channelCredentials, { caller, allowInsecureChannel: undefined });
  return secure.compose(tokenCallCredentials(provider, getTokenOptions));
}
