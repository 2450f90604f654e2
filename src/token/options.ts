import { systemClock, type Clock } from '../common/clock.js';
import { AuthConfigError, authConfigError } from '../common/config-error.js';
import { checkBoolean, checkNonEmptyString, checkOptionNames } from '../common/option-checks.js';
import type { ClientAuthMethod, MtlsClientAuthMethod } from './credentials/client-credential.js';
import type { TlsClientCertificateOptions } from './credentials/tls-client-certificate.js';
import type { TokenFunction } from './credentials/external-token.js';
import { checkProxyOption, type ProxyOption } from './http/proxy.js';
import type { PrivateKeyInput } from './credentials/private-key.js';
import { defaultRetryOptions, type ResolvedRetryOptions, type RetryOptions } from './cache/backoff.js';
import { normalizeScopes } from './scopes.js';
import type { SharedTokenCache } from './cache/shared-cache.js';
import type { TokenExchangeOptions } from './sources/token-exchange.js';
import type { TokenSource } from './token-source.js';
import { resolveDpop, type ResolvedDpop, type DpopOptions } from './dpop/dpop-options.js';

/**
 * Options of {@link TokenManager}. Give `issuer` (discovery) or `tokenEndpoint`, a `clientId`, and
 * exactly one credential: `clientSecret`, `clientSecretFile`, `privateKey`, `privateKeyFile`,
 * `clientAssertionFile`, `clientAssertion` or `tlsClientCertificate` (none with `tokenExchange`, for a
 * public client).
 * Or give a `tokenSource` of your own instead of all of those.
 */
export interface TokenManagerOptions {
  /** Authorization server to discover (RFC 8414, then OpenID Connect discovery). */
  issuer?: string;
  /** Token endpoint to use without discovery. */
  tokenEndpoint?: string;
  /** The OAuth client id (the service account). */
  clientId?: string;
  /** Client secret for `client_secret_basic` / `client_secret_post`. Never logged. */
  clientSecret?: string;
  /** File holding the client secret; read again when the server answers `invalid_client` (rotation). */
  clientSecretFile?: string;
  /** Private key for `private_key_jwt`: PKCS#8 PEM, a private JWK, or a `CryptoKey`. */
  privateKey?: PrivateKeyInput;
  /** File holding the private key (PEM or JWK JSON); read again on `invalid_client`. */
  privateKeyFile?: string;
  /**
   * File holding a JWT the platform signs and rotates (a Kubernetes projected service-account token,
   * a SPIFFE JWT-SVID), sent as an RFC 7523 client assertion; read again when it changes and after
   * `invalid_client`. No secret or key needed.
   */
  clientAssertionFile?: string;
  /** Function returning the client assertion (a CI provider's OIDC token), called for every token request. */
  clientAssertion?: TokenFunction;
  /** `kid` to put in client assertions. Default: the JWK's `kid`, else none. */
  privateKeyId?: string;
  /**
   * Default: `tls_client_auth` with `tlsClientCertificate`, `private_key_jwt` with a private key, else
   * `client_secret_basic`. `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2) need
   * `tlsClientCertificate`.
   */
  clientAuthMethod?: ClientAuthMethod | MtlsClientAuthMethod;
  /**
   * The TLS client certificate that authenticates the client to the token endpoint (RFC 8705 §2):
   * `{ certFile, keyFile }` (PEM; `caFile` too when the token endpoint's certificate needs a CA of its
   * own), such as a cert-manager Secret volume's files, the same ones `createMtlsChannelCredentials`
   * takes. Token requests go to the discovery document's `mtls_endpoint_aliases.token_endpoint` when it
   * has one, and the tokens come back bound to the certificate (`cnf.x5t#S256`) where the server binds
   * them. The files are read at construction (a missing, empty, mismatched or expired pair is an
   * AuthConfigError) and again before each token request: a renewed, complete, matching pair is used
   * by new connections; a half-written or mismatched one is skipped (the last good pair stays) and
   * reported once as a `GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED` warning. The endpoints must be https.
   * Default: none.
   */
  tlsClientCertificate?: TlsClientCertificateOptions;
  /** Scopes requested when `getToken()` is called without `scopes`. Default none (the server's default). */
  scopes?: readonly string[];
  /** Sent as the `audience` parameter. */
  audience?: string;
  /** Sent as the `resource` parameter (RFC 8707). */
  resource?: string;
  /** Get tokens by RFC 8693 token exchange instead of client credentials. Default: client credentials. */
  tokenExchange?: TokenExchangeOptions;
  /**
   * Proxy for token and discovery requests: a URL (`'http://proxy:3128'`, credentials allowed and
   * never shown), or `false` for none. Default: `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (or their
   * lower-case forms) as set when the manager is created.
   */
  proxy?: ProxyOption;
  /** How long before expiry a token is refreshed in the background, in milliseconds. Default 60000. */
  refreshBeforeExpiryMs?: number;
  /** Lifetime assumed when the answer has neither `expires_in` nor a JWT `exp`, in milliseconds. Default 300000. */
  defaultLifetimeMs?: number;
  /**
   * Backoff between attempts; `retries` counts the tries after the first. Default
   * `{ retries: 5, minTimeoutMs: 200, maxTimeoutMs: 30000, fatalMinTimeoutMs: 60000, fatalMaxTimeoutMs: 900000 }`.
   */
  retry?: RetryOptions;
  /** Time allowed for one HTTP request to the authorization server, body included, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
  /**
   * Longest a `getToken()` caller without a usable token waits for the shared retries, in
   * milliseconds; it then gets the latest error while the retries go on in the background. The
   * caller's own `signal` may end the wait sooner. Default 10000.
   */
  maxWaitMs?: number;
  /** Allow `http://` endpoints. Only for tests and loopback. Default false. */
  allowInsecureRequests?: boolean;
  /** Where time comes from; inject a manual clock in tests. Default: the system clock. */
  clock?: Clock;
  /** A source of tokens of your own, instead of the OAuth options above. */
  tokenSource?: TokenSource;
  /** A cache shared by the processes of a fleet (`createRedisTokenCache` from `grpc-oauth2-credentials/redis`). Default none. */
  sharedCache?: SharedTokenCache;
  /**
   * Ask for DPoP-bound tokens (RFC 9449): every token request carries a DPoP proof signed with this
   * key, and the tokens come back `tokenType: 'DPoP'`. `{}` generates a P-256 key in memory. Not with
   * `tokenSource`, `sharedCache` or a service-account key file (JWT-bearer grant). The gRPC and
   * Connect clients do not send per-call proofs yet and refuse such tokens. Default: none (bearer tokens).
   */
  dpop?: DpopOptions;
}

/** The options that pick the OAuth client; a `tokenSource` replaces them all. */
export const clientOptionNames = [
  'issuer',
  'tokenEndpoint',
  'clientId',
  'clientSecret',
  'clientSecretFile',
  'privateKey',
  'privateKeyFile',
  'privateKeyId',
  'clientAuthMethod',
  'clientAssertionFile',
  'clientAssertion',
  'tlsClientCertificate',
  'tokenExchange',
] as const satisfies readonly (keyof TokenManagerOptions)[];
/** Every option name, once; the compiler checks it against {@link TokenManagerOptions}. */
const optionNames = [
  ...clientOptionNames,
  'scopes',
  'audience',
  'resource',
  'refreshBeforeExpiryMs',
  'defaultLifetimeMs',
  'retry',
  'requestTimeoutMs',
  'maxWaitMs',
  'allowInsecureRequests',
  'clock',
  'tokenSource',
  'sharedCache',
  'proxy',
  'dpop',
] as const satisfies readonly (keyof TokenManagerOptions)[];
// Fails to compile when an option is added to the interface but not to the list.
const everyOptionListed: Exclude<keyof TokenManagerOptions, (typeof optionNames)[number]> extends never ? true : never =
  true;
void everyOptionListed;

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly scopes: readonly string[];
  readonly audience: string | undefined;
  readonly resource: string | undefined;
  readonly refreshBeforeExpiryMs: number;
  readonly defaultLifetimeMs: number;
  readonly retry: ResolvedRetryOptions;
  readonly requestTimeoutMs: number;
  readonly maxWaitMs: number;
  readonly allowInsecureRequests: boolean;
  readonly clock: Clock;
  readonly sharedCache: SharedTokenCache | undefined;
  readonly proxy: ProxyOption | undefined;
  /** The checked `dpop` option; undefined for bearer tokens. */
  readonly dpop: ResolvedDpop | undefined;
}

/** Checks every option up front; a bad one is an AuthConfigError that names it (never its value if secret). */
export function resolveOptions(options: TokenManagerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new AuthConfigError('TokenManager options must be an object');
  checkOptionNames(options, optionNames, 'TokenManager option');
  if (options.tokenSource !== undefined) {
    const mixed = clientOptionNames.filter((name) => options[name] !== undefined);
    if (mixed.length > 0)
      throw new AuthConfigError(`tokenSource replaces the OAuth client options; remove ${mixed.join(', ')}`);
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function' || typeof clock.setTimeout !== 'function')
    throw new AuthConfigError('clock must have now() and setTimeout()');
  const sharedCache = options.sharedCache;
  if (sharedCache !== undefined && (typeof sharedCache?.get !== 'function' || typeof sharedCache.set !== 'function')) {
    throw new AuthConfigError('sharedCache must have get() and set() (see createRedisTokenCache)');
  }
  if (options.dpop !== undefined && (options.tokenSource !== undefined || sharedCache !== undefined)) {
    // A shared token is bound to another process's key; a custom source makes no DPoP proofs.
    throw new AuthConfigError(
      `dpop cannot be used with ${options.tokenSource === undefined ? 'sharedCache' : 'tokenSource'}`,
    );
  }
  return {
    scopes: normalizeScopes(options.scopes ?? [], 'scopes', authConfigError),
    audience: options.audience === undefined ? undefined : checkNonEmptyString(options.audience, 'audience'),
    resource: options.resource === undefined ? undefined : checkNonEmptyString(options.resource, 'resource'),
    refreshBeforeExpiryMs: duration(options.refreshBeforeExpiryMs ?? 60_000, 'refreshBeforeExpiryMs', 0),
    defaultLifetimeMs: duration(options.defaultLifetimeMs ?? 300_000, 'defaultLifetimeMs', 1),
    retry: resolveRetry(options.retry),
    requestTimeoutMs: duration(options.requestTimeoutMs ?? 10_000, 'requestTimeoutMs', 1),
    maxWaitMs: duration(options.maxWaitMs ?? 10_000, 'maxWaitMs', 1),
    allowInsecureRequests: checkBoolean(options.allowInsecureRequests, 'allowInsecureRequests') ?? false,
    clock,
    sharedCache,
    proxy: checkProxyOption(options.proxy),
    dpop: resolveDpop(options.dpop, clock),
  };
}

function resolveRetry(retry: RetryOptions | undefined): ResolvedRetryOptions {
  checkOptionNames(retry, Object.keys(defaultRetryOptions), 'retry option');
  const value = { ...defaultRetryOptions, ...retry };
  const resolved: ResolvedRetryOptions = {
    retries: integer(value.retries, 'retry.retries', 0, 100),
    minTimeoutMs: duration(value.minTimeoutMs, 'retry.minTimeoutMs', 0),
    maxTimeoutMs: duration(value.maxTimeoutMs, 'retry.maxTimeoutMs', 0),
    fatalMinTimeoutMs: duration(value.fatalMinTimeoutMs, 'retry.fatalMinTimeoutMs', 1),
    fatalMaxTimeoutMs: duration(value.fatalMaxTimeoutMs, 'retry.fatalMaxTimeoutMs', 1),
  };
  if (resolved.maxTimeoutMs < resolved.minTimeoutMs)
    throw new AuthConfigError('retry.maxTimeoutMs must be at least retry.minTimeoutMs');
  if (resolved.fatalMaxTimeoutMs < resolved.fatalMinTimeoutMs)
    throw new AuthConfigError('retry.fatalMaxTimeoutMs must be at least retry.fatalMinTimeoutMs');
  return resolved;
}

function duration(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 2_147_483_647) {
    throw new AuthConfigError(`${what} must be a number of milliseconds from ${min} to 2147483647`);
  }
  return value;
}

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AuthConfigError(`${what} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Options of {@link TokenManager.fromServiceAccountFile}: everything but the endpoint and credential. */
export type ServiceAccountOptions = Omit<TokenManagerOptions, (typeof clientOptionNames)[number] | 'tokenSource'>;
