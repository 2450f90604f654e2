// The `introspection` options of an issuer: the client the server introspects as, its cache and its bounds.
import { AuthConfigError } from '../../common/config-error.js';
import { checkNonEmptyString, checkNumber, checkOptionNames } from '../../common/option-checks.js';
import {
  chooseAuthMethod,
  type ClientAuthMethod,
  type ClientCredential,
} from '../../token/credentials/client-credential.js';
import { CredentialFile } from '../../token/credentials/credential-file.js';
import { parsePrivateKeyText, type PrivateKeyInput } from '../../token/credentials/private-key.js';
import type { AuthenticatingClient } from '../../token/credentials/client-authentication.js';
import { checkedEndpoint } from '../../token/http/endpoint-url.js';

/**
 * How the server asks an issuer's RFC 7662 introspection endpoint about opaque tokens: as an OAuth
 * client (`clientId` and exactly one credential, as `TokenManager` takes them), with its answers
 * cached by the SHA-256 of the token (never the token itself).
 *
 * @example
 * ```ts
 * { issuer: 'https://hydra.example.com', audience: 'orders', introspection: {
 *     clientId: 'orders-api', clientSecretFile: '/var/run/secrets/introspect', cacheMaxSec: 300 } }
 * ```
 */
export interface IntrospectionOptions {
  /** The introspection endpoint. Default: `introspection_endpoint` of the issuer's discovery document (RFC 8414, then OpenID Connect). */
  endpoint?: string;
  /** The client id the server introspects as. Required. */
  clientId: string;
  /** Client secret for `client_secret_basic` / `client_secret_post`. Never logged. */
  clientSecret?: string;
  /** File holding the client secret; read on first use, and again when the endpoint refuses it (rotation). */
  clientSecretFile?: string;
  /** Private key for `private_key_jwt`: PKCS#8 PEM, a private JWK, or a `CryptoKey`. */
  privateKey?: PrivateKeyInput;
  /** File holding the private key (PEM or JWK JSON); read on first use, and again when the endpoint refuses it. */
  privateKeyFile?: string;
  /** `kid` to put in client assertions. Default: the JWK's `kid`, else none. */
  privateKeyId?: string;
  /** Default: `private_key_jwt` with a private key, else `client_secret_basic`. */
  clientAuthMethod?: ClientAuthMethod;
  /**
   * Longest an active answer is used, in seconds; never past the answer's `exp` (plus the clock
   * tolerance). A revoked token is refused at the latest this long after its revocation. Default 300;
   * `0` asks the endpoint on every call (concurrent calls with one token still share one request).
   */
  cacheMaxSec?: number;
  /** How long an `active: false` answer is used, in seconds. Default 10; `0` turns the negative cache off. */
  inactiveCacheSec?: number;
  /**
   * The prefixes of the opaque tokens this issuer takes (`['ory_at_']`), so that the server can tell
   * which issuer to ask when several introspect. Default: none given.
   */
  tokenPrefixes?: readonly string[];
  /**
   * Most introspection requests in flight at once, for distinct tokens; a call with a token not in the
   * cache while that many are pending ends `UNAVAILABLE` (`introspection_unavailable`) at once, so that
   * a flood of made-up tokens costs the endpoint at most this many requests at a time. Default 64.
   */
  maxConcurrentRequests?: number;
}

/** {@link IntrospectionOptions}, checked, with their defaults filled in. */
export interface ResolvedIntrospectionOptions {
  /** The configured endpoint; `undefined` to discover it. */
  readonly endpoint: string | undefined;
  readonly client: AuthenticatingClient;
  readonly cacheMaxSec: number;
  readonly inactiveCacheSec: number;
  /** `undefined` when not given. */
  readonly tokenPrefixes: readonly string[] | undefined;
  readonly maxConcurrentRequests: number;
}

/** The options that each give the client's credential; exactly one must be set. */
const credentialNames = ['clientSecret', 'clientSecretFile', 'privateKey', 'privateKeyFile'] as const;

/** Every option name, for the unknown-name check. */
const optionNames = Object.freeze([
  'endpoint',
  'clientId',
  ...credentialNames,
  'privateKeyId',
  'clientAuthMethod',
  'cacheMaxSec',
  'inactiveCacheSec',
  'tokenPrefixes',
  'maxConcurrentRequests',
] satisfies (keyof IntrospectionOptions)[]);

/**
 * Checks an issuer's `introspection` options. Messages name the option as `${where}.introspection.<name>`
 * and never quote a secret.
 *
 * @param where - names the issuer's settings, e.g. `'createServerAuthInterceptor: issuers[2]'`.
 * @throws AuthConfigError for an unknown name (with a suggestion), a missing or second credential, a
 *   bad value, or an `http:` endpoint without `allowInsecureRequests`.
 */
export function resolveIntrospectionOptions(
  value: unknown,
  where: string,
  allowInsecureRequests: boolean,
): ResolvedIntrospectionOptions {
  const prefix = `${where}.introspection`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AuthConfigError(`${prefix} must be an object`);
  checkOptionNames(value, optionNames, `${prefix} option`);
  const options = value as Record<string, unknown>;
  const name = (option: string): string => `${prefix}.${option}`;
  const endpoint =
    options.endpoint === undefined
      ? undefined
      : checkedEndpoint(options.endpoint, name('endpoint'), allowInsecureRequests);
  const clientId = checkNonEmptyString(options.clientId, name('clientId'));
  const credential = credentialOf(options, prefix);
  const names = {
    method: name('clientAuthMethod'),
    secret: name('clientSecret'),
    key: `${name('privateKey')} or privateKeyFile`,
  };
  return {
    endpoint,
    client: { clientId, credential, clientAuthMethod: chooseAuthMethod(options.clientAuthMethod, credential, names) },
    cacheMaxSec: checkNumber(options.cacheMaxSec, name('cacheMaxSec'), 300, { min: 0, max: 86_400 }),
    inactiveCacheSec: checkNumber(options.inactiveCacheSec, name('inactiveCacheSec'), 10, { min: 0, max: 3600 }),
    tokenPrefixes: tokenPrefixesOf(options.tokenPrefixes, name('tokenPrefixes')),
    maxConcurrentRequests: checkNumber(options.maxConcurrentRequests, name('maxConcurrentRequests'), 64, {
      min: 1,
      max: 10_000,
      integer: true,
    }),
  };
}

/** The one credential given; files are read on first use (`Introspector.ready()` reads them at once). */
function credentialOf(options: Record<string, unknown>, prefix: string): ClientCredential {
  const name = (option: string): string => `${prefix}.${option}`;
  const given = credentialNames.filter((option) => options[option] !== undefined);
  if (given.length === 0)
    throw new AuthConfigError(
      `${prefix} needs one credential: clientSecret, clientSecretFile, privateKey or privateKeyFile`,
    );
  if (given.length > 1) throw new AuthConfigError(`${prefix}: give only one credential, not ${given.join(' and ')}`);
  const isKey = options.privateKey !== undefined || options.privateKeyFile !== undefined;
  if (options.privateKeyId !== undefined && !isKey)
    throw new AuthConfigError(`${name('privateKeyId')} applies only with privateKey or privateKeyFile`);
  const kid =
    options.privateKeyId === undefined ? undefined : checkNonEmptyString(options.privateKeyId, name('privateKeyId'));
  if (options.clientSecret !== undefined)
    return { kind: 'secret', value: checkNonEmptyString(options.clientSecret, name('clientSecret'), true) };
  if (options.privateKey !== undefined) {
    const key = options.privateKey;
    if (typeof key !== 'string' && (typeof key !== 'object' || key === null))
      throw new AuthConfigError(`${name('privateKey')} must be a PEM private key, a private JWK or a CryptoKey`);
    return { kind: 'key', value: key as PrivateKeyInput, kid };
  }
  const fileOption = options.clientSecretFile === undefined ? 'privateKeyFile' : 'clientSecretFile';
  const path = checkNonEmptyString(options[fileOption], name(fileOption));
  const file = new CredentialFile(path, name(fileOption));
  if (fileOption === 'clientSecretFile') return { kind: 'secret-file', file };
  return { kind: 'key-file', file, parse: (text) => parsePrivateKeyText(text, name(fileOption)), kid };
}

function tokenPrefixesOf(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0)
    throw new AuthConfigError(`${name} must be a non-empty array of strings`);
  return Object.freeze(value.map((prefix) => checkNonEmptyString(prefix, name)));
}
