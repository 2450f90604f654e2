import type { ChannelCredentials } from '@grpc/grpc-js';
import type { TokenProvider } from '../token/token-provider.js';
import { createCallCredentials, type CallCredentialsOptions } from './call-credentials.js';

/**
 * Thrown at construction when asked to attach tokens to insecure (plaintext) channel credentials: a
 * bearer token sent in clear text can be read and replayed by anyone on the path. Nothing has been
 * sent and no token has been fetched when it is thrown.
 *
 * @example
 * ```ts
 * try {
 *   createChannelCredentials(grpc.credentials.createInsecure(), tokens);
 * } catch (err) {
 *   if (err instanceof InsecureChannelError) console.error(err.message); // says to use createSsl(...)
 * }
 * ```
 */
export class InsecureChannelError extends Error {
  override readonly name = 'InsecureChannelError';
  /** Stable code to switch on. */
  readonly code = 'insecure_channel' as const;
}

/** Channel credentials that {@link createChannelCredentials} made: they already attach a token. */
const withOurCallCredentials = new WeakSet<ChannelCredentials>();

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
  options: CallCredentialsOptions = {},
): ChannelCredentials {
  // Checked before compose(): grpc-js's own error ("Cannot compose insecure credentials") does not
  // say why or what to do.
  if (!isSecureChannel(channelCredentials, 'createChannelCredentials')) {
    throw new InsecureChannelError(
      'createChannelCredentials: refusing to attach OAuth2 access tokens to insecure (plaintext) channel credentials: ' +
        'anyone on the network path could read the token and reuse it. ' +
        'Use TLS channel credentials, e.g. grpc.credentials.createSsl(caCertificate).',
    );
  }
  const composed = channelCredentials.compose(createCallCredentials(tokens, options));
  withOurCallCredentials.add(composed);
  return composed;
}

/**
 * Whether these channel credentials came from {@link createChannelCredentials}.
 *
 * @internal
 * @example
 * ```ts
 * carriesOurCallCredentials(createChannelCredentials(grpc.credentials.createSsl(), tokens)); // true
 * ```
 */
export function carriesOurCallCredentials(channelCredentials: ChannelCredentials): boolean {
  return withOurCallCredentials.has(channelCredentials) || hasComposedCallCredentials(channelCredentials);
}

/**
 * Whether channel credentials were composed with call credentials of any origin
 * (`combineChannelCredentials(tls, createCallCredentials(tokens))`, or another library's): such a
 * channel already attaches a header, likely `authorization`. grpc-js keeps the composed call
 * credentials in a `callCredentials` field and uses an `EmptyCallCredentials` when there are none;
 * neither is public API, so anything unexpected reads as "not composed".
 */
function hasComposedCallCredentials(channelCredentials: ChannelCredentials): boolean {
  const callCredentials = (channelCredentials as unknown as { callCredentials?: { constructor?: { name?: unknown } } }).callCredentials;
  return typeof callCredentials === 'object' && callCredentials !== null && callCredentials.constructor?.name !== 'EmptyCallCredentials';
}

/**
 * Whether `channelCredentials` are secure (TLS). Throws a `TypeError` for something that is not
 * grpc-js channel credentials.
 *
 * `_isSecure()` is declared public on `ChannelCredentials` in every grpc-js 1.x; duck typing rather than
 * `instanceof` keeps this working when the application's grpc-js and ours resolve to different copies.
 *
 * @internal
 * @example
 * ```ts
 * isSecureChannel(grpc.credentials.createInsecure(), 'createAuthInterceptor'); // false
 * ```
 */
export function isSecureChannel(channelCredentials: unknown, caller: string): boolean {
  const candidate = channelCredentials as Partial<ChannelCredentials> | null | undefined;
  if (typeof candidate?._isSecure !== 'function' || typeof candidate.compose !== 'function') {
    throw new TypeError(
      `${caller}: channelCredentials must be grpc-js ChannelCredentials, e.g. grpc.credentials.createSsl(caCertificate)`,
    );
  }
  return candidate._isSecure() === true;
}
