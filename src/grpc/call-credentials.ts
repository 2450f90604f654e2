import { credentials, Metadata, type CallCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { checkBoolean, checkOptionNames } from '../common/option-checks.js';
import { normalizeScopes } from '../token/scopes.js';
import { checkTokenProvider, type GetTokenOptions, type TokenProvider } from '../token/token-provider.js';
import { cachedToken } from '../calls/method-plan.js';
import { bearerHeader, bearerValueFor } from './bearer-header.js';
import { checkChannelSecurity } from './channel-security.js';
import { authConfigError } from '../common/config-error.js';
import { tokenFailureStatus } from './status.js';

/**
 * Options of {@link createCallCredentials}.
 *
 * @example
 * ```ts
 * const options: CallCredentialsOptions = { channelCredentials: grpc.credentials.createSsl(ca), scopes: ['orders.read'] };
 * ```
 */
export interface CallCredentialsOptions {
  /**
   * The channel credentials these call credentials will be used with (composed into, or passed per
   * call on a client made with). Required: grpc-js sends per-call credentials over a plaintext channel
   * too, so this is how the credentials know where tokens will go. Insecure ones are refused with an
   * `InsecureChannelError` unless `allowInsecureChannel` is set.
   */
  channelCredentials: ChannelCredentials;
  /**
   * Scopes to request for every call made with these credentials; the TokenManager caches each
   * distinct set separately. Default: the TokenManager's configured `scopes`.
   */
  scopes?: readonly string[];
  /**
   * Attach tokens even though `channelCredentials` are insecure: every token then travels in plaintext.
   * For local development against a plaintext server only; a warning is emitted once per process.
   * Default `false`.
   */
  allowInsecureChannel?: boolean;
}

const callCredentialsOptionNames = ['channelCredentials', 'scopes', 'allowInsecureChannel'] as const;

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
 * credentials passed per call (`CallOptions.credentials`) can end up on a client whose channel is not
 * the one named here, and grpc-js would send them over plaintext too.
 *
 * @throws InsecureChannelError when `channelCredentials` are insecure, without `allowInsecureChannel`.
 * @throws AuthConfigError for an unknown or mistyped option (the message names it).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { TokenManager, createCallCredentials } from 'grpc-oauth2-credentials';
 *
 * const tokens = new TokenManager({ tokenEndpoint, clientId, clientSecret, scopes: ['orders.read'] });
 * const tls = grpc.credentials.createSsl(ca);
 * const callCredentials = createCallCredentials(tokens, { channelCredentials: tls, scopes: ['orders.write'] });
 * const channelCredentials = grpc.credentials.combineChannelCredentials(tls, callCredentials);
 * ```
 */
export function createCallCredentials(tokens: TokenProvider, options: CallCredentialsOptions): CallCredentials {
  const caller = 'createCallCredentials';
  const provider = checkTokenProvider(tokens, caller);
  checkOptionNames(options, callCredentialsOptionNames, `${caller} option`);
  const allowInsecureChannel = checkBoolean(options?.allowInsecureChannel, `${caller}: allowInsecureChannel`) ?? false;
  const getTokenOptions = getTokenOptionsFor(options?.scopes, caller);
  checkChannelSecurity(options?.channelCredentials, { caller, allowInsecureChannel });
  return tokenCallCredentials(provider, getTokenOptions);
}

/**
 * The `getToken()` options for a user's `scopes` option: checked and frozen once here (a frozen
 * array lets the TokenManager skip sorting it on every call); `undefined` for the configured scopes.
 *
 * @internal
 * @example
 * ```ts
 * getTokenOptionsFor(['orders.read'], 'createChannelCredentials'); // { scopes: ['orders.read'] }
 * ```
 */
export function getTokenOptionsFor(scopes: unknown, caller: string): GetTokenOptions | undefined {
  return scopes === undefined ? undefined : { scopes: normalizeScopes(scopes, `${caller}: scopes`, authConfigError) };
}

/**
 * Call credentials for already checked arguments: what {@link createCallCredentials} returns, and
 * what `createChannelCredentials` composes.
 *
 * @internal
 * @example
 * ```ts
 * tlsCredentials.compose(tokenCallCredentials(tokens, { scopes: ['orders.read'] }));
 * ```
 */
export function tokenCallCredentials(
  tokens: TokenProvider,
  getTokenOptions: GetTokenOptions | undefined,
): CallCredentials {
  const source = { tokens, getTokenOptions };
  return callCredentialsFrom(() => {
    // A usable cached token is answered synchronously: the promise chain of the waiting path below
    // costs about 1.5 KB of garbage per call, 4% of what grpc-js allocates for a whole unary call
    // (docs/performance.md, "Bytes allocated per call").
    const cached = cachedToken(source);
    const header = cached === undefined ? undefined : bearerValueFor(cached);
    return header === undefined ? waitForToken(tokens, getTokenOptions) : authorizationMetadata(header);
  });
}

/** The waiting path: `authorization` metadata once `getToken()` resolves; rejects with a status. */
async function waitForToken(tokens: TokenProvider, getTokenOptions: GetTokenOptions | undefined): Promise<Metadata> {
  let header: string;
  try {
    ({ header } = await bearerHeader(tokens, getTokenOptions));
  } catch (error) {
    throw tokenFailureStatus(error);
  }
  return authorizationMetadata(header);
}

/** Metadata holding only `authorization: <header>`. */
function authorizationMetadata(header: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', header);
  return metadata;
}

/** What grpc-js passes a metadata generator: `service_url` and `method_name`, nothing about the call. */
export type MetadataParams = Parameters<CallCredentials['generateMetadata']>[0];

/**
 * Call credentials whose metadata comes from `produce`, at once or later. The one wrapper around
 * grpc-js's metadata generator: it always calls back with a `Metadata` or an error, since
 * `cb(null, undefined)` crashes the process (docs/grpc-js-facts.md, "A generator must call back with
 * metadata or an error"). An `Error` that `produce` rejects with is passed on as it is (it carries the
 * status `produce` chose, or is the caller's own per-call credentials' error); anything else, and
 * whatever `produce` throws, becomes a status through `tokenFailureStatus`.
 *
 * @internal
 * @example
 * ```ts
 * const creds = callCredentialsFrom(async () => metadataWithToken());
 * ```
 */
export function callCredentialsFrom(
  produce: (params: MetadataParams) => Metadata | Promise<Metadata>,
): CallCredentials {
  return credentials.createFromMetadataGenerator((params, callback) => {
    let produced: Metadata | Promise<Metadata>;
    try {
      produced = produce(params);
    } catch (error) {
      callback(tokenFailureStatus(error));
      return;
    }
    if (produced instanceof Metadata) callback(null, produced);
    else
      produced.then(
        (metadata) => callback(null, metadata),
        (error: unknown) => callback(error instanceof Error ? error : tokenFailureStatus(error)),
      );
  });
}
