import { AuthConfigError } from '../../common/config-error.js';
import { resolveClient } from '../credentials/client-credential.js';
import { CredentialFile } from '../credentials/credential-file.js';
import { clientFromKeyFile, parseKeyFileNow } from '../credentials/key-file.js';
import { checkedEndpoint } from '../http/endpoint-url.js';
import type { HttpSettings } from '../http/oauth-http.js';
import { proxyRoute, type ProxyOption } from '../http/proxy.js';
import type { ResolvedOptions, TokenManagerOptions } from '../options.js';
import type { TokenSource } from '../token-source.js';
import type { ResolvedDpop } from '../dpop/dpop-options.js';
import { ClientCredentialsSource } from './client-credentials.js';
import { JwtBearerSource } from './jwt-bearer.js';
import { TokenExchangeGrant } from './token-exchange.js';

export { tokenFileSource, type TokenFileOptions } from './token-file.js';

/** What every token source built here shares with the TokenManager: HTTP settings and the fallback lifetime. */
export interface SourceSettings {
  readonly http: HttpSettings;
  /** Lifetime assumed when an answer has neither `expires_in` nor a JWT `exp`, in milliseconds. */
  readonly defaultLifetimeMs: number;
  /** The `proxy` option, for routes made later (a client certificate's). Default: the environment's. */
  readonly proxy?: ProxyOption;
  /** The `dpop` option: token requests carry proofs of its key. Default none (bearer tokens). */
  readonly dpop?: ResolvedDpop;
}

/** The settings sources take, from a TokenManager's checked options; the proxy route is made here, once per manager. */
export function sourceSettings(options: ResolvedOptions): SourceSettings {
  const { requestTimeoutMs, allowInsecureRequests, clock, defaultLifetimeMs, proxy, dpop } = options;
  return {
    http: { requestTimeoutMs, allowInsecureRequests, clock, proxy: proxyRoute(proxy) },
    defaultLifetimeMs,
    proxy,
    dpop,
  };
}

/**
 * The token source the OAuth options of a TokenManager describe: `issuer` or `tokenEndpoint`,
 * `clientId`, one credential and `clientAuthMethod`, used with the client-credentials grant, or
 * with RFC 8693 token exchange when `tokenExchange` is set.
 *
 * @throws AuthConfigError naming the bad option.
 * @example
 * ```ts
 * const source = createTokenSource({ tokenEndpoint: 'https://auth.example.com/token', clientId: 'orders-svc', clientSecret }, settings);
 * ```
 */
export function createTokenSource(options: TokenManagerOptions, settings: SourceSettings): TokenSource {
  const { allowInsecureRequests, clock, requestTimeoutMs } = settings.http;
  const limits = { clock, timeoutMs: requestTimeoutMs };
  const client = resolveClient(options, allowInsecureRequests, limits);
  const grant = options.tokenExchange === undefined ? undefined : new TokenExchangeGrant(options.tokenExchange, limits);
  return new ClientCredentialsSource({ ...client, ...settings, grant });
}

/**
 * The token source a JSON key file describes: a Google-format service-account key
 * (`type: "service_account"`, used with the JWT-bearer grant of RFC 7523) or an OAuth2 client file
 * (`client_id`, `client_secret` or `private_key`, `token_endpoint` or `issuer`). The file is read
 * once here, so a missing or malformed file fails at once, and again only when the token server
 * rejects the credential (rotation).
 *
 * @throws AuthConfigError naming the file and the missing or malformed field (never its value).
 * @example
 * ```ts
 * const source = tokenSourceFromKeyFile('/var/run/secrets/orders-sa.json', settings);
 * ```
 */
export function tokenSourceFromKeyFile(path: string, settings: SourceSettings): TokenSource {
  if (typeof path !== 'string' || path === '')
    throw new AuthConfigError('fromServiceAccountFile needs the key file path');
  const { file, content } = CredentialFile.readNow(path, 'key file');
  const keyFile = parseKeyFileNow(content, path);
  const { allowInsecureRequests } = settings.http;
  if (keyFile.kind === 'service_account') {
    if (settings.dpop !== undefined) throw new AuthConfigError('dpop is not supported with a service-account key file');
    checkedEndpoint(keyFile.key.tokenUri, `"token_uri" of ${path}`, allowInsecureRequests);
    return new JwtBearerSource({ file, path, ...settings }, keyFile.key);
  }
  return new ClientCredentialsSource({
    ...clientFromKeyFile(keyFile.client, file, path, allowInsecureRequests),
    ...settings,
  });
}
