import { Code, ConnectError } from '@connectrpc/connect';
import { warnOnce } from '../common/warn-once.js';

/**
 * Checks the URL a request is about to go to, on every call and before anything is sent or a token
 * is fetched: Connect hands the interceptor the URL itself, so unlike on grpc-js (where only the
 * channel credentials tell) the check sees exactly where this call goes. Returns the error the call
 * ends with, or `undefined` to go ahead.
 *
 * - `https:` goes ahead.
 * - `http:` is refused with `Unauthenticated` (a bearer token in clear text can be read and replayed
 *   by anyone on the path), unless `allowInsecureChannel`, which warns once per process.
 * - Anything else (another scheme, a URL that does not parse) is refused: nobody can say whether it
 *   is encrypted.
 *
 * @internal
 * @example
 * ```ts
 * const refusal = checkRequestUrl(request.url, false);
 * if (refusal !== undefined) throw refusal;
 * ```
 */
export function checkRequestUrl(url: string, allowInsecureChannel: boolean): ConnectError | undefined {
  const protocol = URL.parse(url)?.protocol;
  if (protocol === 'https:') return undefined;
  if (protocol === 'http:') {
    if (!allowInsecureChannel) {
      return new ConnectError(
        'createConnectAuthInterceptor: refusing to send an OAuth2 access token to an http: URL: the request would go in ' +
          'plaintext, and anyone on the network path could read the token and reuse it. Use an https: baseUrl; for local ' +
          'development only, set allowInsecureChannel: true. Nothing was sent.',
        Code.Unauthenticated,
      );
    }
    warnOnce(
      'GRPC_OAUTH2_CONNECT_INSECURE_URL',
      'InsecureChannelWarning',
      'createConnectAuthInterceptor: allowInsecureChannel is set and a request goes to an http: URL: OAuth2 access tokens ' +
        'are sent in PLAINTEXT, readable and reusable by anyone on the network path. Use this for local development only.',
    );
    return undefined;
  }
  return new ConnectError(
    'createConnectAuthInterceptor: refusing to send an OAuth2 access token to a URL that is not https: (its scheme ' +
      'does not say the request is encrypted). Nothing was sent.',
    Code.Unauthenticated,
  );
}
