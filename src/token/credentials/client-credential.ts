import { checkNonEmptyString } from '../../common/option-checks.js';
import { AuthConfigError } from '../../common/config-error.js';
import { checkedEndpoint } from '../http/endpoint-url.js';
import type { TokenManagerOptions } from '../options.js';
import { CredentialFile } from './credential-file.js';
import { ExternalToken, type CallLimits } from './external-token.js';
import { parsePrivateKeyText, type PrivateKeyInput } from './private-key.js';
import { TlsClientCertificate } from './tls-client-certificate.js';

/** How the client proves who it is to the token endpoint. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/**
 * Client authentication by a TLS client certificate (RFC 8705 §2): `tls_client_auth` (a certificate a
 * CA issued, matched by its subject or a SAN) or `self_signed_tls_client_auth` (the certificate
 * registered with the client).
 */
export type MtlsClientAuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth';

const mtlsMethods: readonly unknown[] = [
  'tls_client_auth',
  'self_signed_tls_client_auth',
] satisfies MtlsClientAuthMethod[];

const authMethods: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** Where the client's credential comes from: a value, or a file read again on rotation. */
export type ClientCredential =
  | { readonly kind: 'secret'; readonly value: string }
  | { readonly kind: 'secret-file'; readonly file: CredentialFile; readonly parse?: (text: string) => string }
  | { readonly kind: 'key'; readonly value: PrivateKeyInput; readonly kid?: string }
  | {
      readonly kind: 'key-file';
      readonly file: CredentialFile;
      readonly parse: (text: string) => PrivateKeyInput;
      readonly kid?: string;
    }
  /** A JWT someone else signed (RFC 7523 §2.2): a projected service-account token, a JWT-SVID. */
  | { readonly kind: 'assertion'; readonly assertion: ExternalToken }
  /** No client authentication, only `client_id` (a public client; token exchange allows it). */
  | { readonly kind: 'none' }
  /** A TLS client certificate presented to the token endpoint (RFC 8705 §2); the body carries `client_id`. */
  | { readonly kind: 'tls-certificate'; readonly certificate: TlsClientCertificate };

/** A checked OAuth client: where to get tokens, who it is and how it authenticates. */
export interface ResolvedClient {
  /** Set for discovery; also the audience of client assertions when given. */
  readonly issuer?: string;
  /** Set to skip discovery. One of `issuer` and `tokenEndpoint` is always set. */
  readonly tokenEndpoint?: string;
  readonly clientId: string;
  readonly clientAuthMethod: ClientAuthMethod | MtlsClientAuthMethod;
  readonly credential: ClientCredential;
}

/** Whether a credential is a private key (signing client assertions) rather than a shared secret. */
function isKeyCredential(credential: ClientCredential): boolean {
  return credential.kind === 'key' || credential.kind === 'key-file';
}

/** How the auth method, the secret and the key are named where they were given, for messages. */
export interface CredentialNames {
  readonly method: string;
  readonly secret: string;
  readonly key: string;
}

const optionNames: CredentialNames = {
  method: 'clientAuthMethod',
  secret: 'clientSecret',
  key: 'privateKey or privateKeyFile',
};

/**
 * The auth method to use with `credential`: `requested` when it fits the kind of credential, else
 * `private_key_jwt` for a key and `client_secret_basic` for a secret.
 */
export function chooseAuthMethod(
  requested: unknown,
  credential: ClientCredential,
  names: CredentialNames,
): ClientAuthMethod {
  const usesKey = isKeyCredential(credential);
  const method = (requested ?? (usesKey ? 'private_key_jwt' : 'client_secret_basic')) as ClientAuthMethod;
  if (!authMethods.includes(method))
    throw new AuthConfigError(`${names.method} must be one of ${authMethods.join(', ')}`);
  if (usesKey !== (method === 'private_key_jwt')) {
    throw new AuthConfigError(
      usesKey
        ? `${names.method} ${method} needs a ${names.secret}, not a private key`
        : `${names.method} private_key_jwt needs ${names.key}`,
    );
  }
  return method;
}

/**
 * Checks the OAuth client options of a TokenManager (endpoint, client id, exactly one credential,
 * auth method). A bad one is an AuthConfigError naming the option.
 */
export function resolveClient(
  options: TokenManagerOptions,
  allowInsecureRequests: boolean,
  limits: CallLimits,
): ResolvedClient {
  const mtls = options.tlsClientCertificate !== undefined || mtlsMethods.includes(options.clientAuthMethod);
  // allowInsecureRequests does not apply: the client certificate needs TLS.
  for (const name of mtls ? (['issuer', 'tokenEndpoint'] as const) : []) {
    const value = options[name];
    if (typeof value === 'string' && /^\s*http:/i.test(value))
      throw new AuthConfigError(`${name} must be https with a TLS client certificate (tlsClientCertificate)`);
  }
  const issuer =
    options.issuer === undefined ? undefined : checkedEndpoint(options.issuer, 'issuer', allowInsecureRequests);
  const tokenEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : checkedEndpoint(options.tokenEndpoint, 'tokenEndpoint', allowInsecureRequests);
  if (issuer === undefined && tokenEndpoint === undefined)
    throw new AuthConfigError('give issuer (for discovery) or tokenEndpoint');
  const clientId = checkNonEmptyString(options.clientId, 'clientId');
  const credential = credentialFromOptions(options, limits);
  if (mtls) {
    return { issuer, tokenEndpoint, clientId, ...mtlsAuthentication(options, credential) };
  }
  if (credential.kind === 'assertion' || credential.kind === 'none') {
    if (options.clientAuthMethod !== undefined)
      throw new AuthConfigError(
        `clientAuthMethod does not apply ${credential.kind === 'none' ? 'without a credential' : 'to a client assertion'}; leave it out`,
      );
    // Sent as private_key_jwt is, with a JWT signed elsewhere; without a credential, unused.
    return { issuer, tokenEndpoint, clientId, clientAuthMethod: 'private_key_jwt', credential };
  }
  return {
    issuer,
    tokenEndpoint,
    clientId,
    clientAuthMethod: chooseAuthMethod(options.clientAuthMethod, credential, optionNames),
    credential,
  };
}

/**
 * The auth method and credential of a client that authenticates with a TLS client certificate, when
 * they agree; the endpoints must be https whatever `allowInsecureRequests` says (TLS is the point).
 */
function mtlsAuthentication(
  options: TokenManagerOptions,
  credential: ClientCredential,
): Pick<ResolvedClient, 'clientAuthMethod' | 'credential'> {
  const method = options.clientAuthMethod ?? 'tls_client_auth';
  if (credential.kind !== 'tls-certificate')
    throw new AuthConfigError(`clientAuthMethod ${method} needs tlsClientCertificate`);
  if (!mtlsMethods.includes(method))
    throw new AuthConfigError(
      `tlsClientCertificate needs clientAuthMethod tls_client_auth or self_signed_tls_client_auth, not ${String(method)}`,
    );
  return { clientAuthMethod: method, credential };
}

/** The options that each give the client's credential; exactly one may be set. */
export const credentialNames = [
  'clientSecret',
  'clientSecretFile',
  'privateKey',
  'privateKeyFile',
  'clientAssertionFile',
  'clientAssertion',
  'tlsClientCertificate',
] as const;

function credentialFromOptions(options: TokenManagerOptions, limits: CallLimits): ClientCredential {
  const given = credentialNames.filter((name) => options[name] !== undefined);
  // RFC 8693 leaves client authentication to the server's policy: a public client may exchange.
  if (given.length === 0 && options.tokenExchange !== undefined) return { kind: 'none' };
  if (given.length === 0)
    throw new AuthConfigError(
      `give one credential: ${credentialNames.slice(0, -1).join(', ')} or tlsClientCertificate`,
    );
  if (given.length > 1) throw new AuthConfigError(`give only one credential, not ${given.join(' and ')}`);
  const kid =
    options.privateKeyId === undefined ? undefined : checkNonEmptyString(options.privateKeyId, 'privateKeyId');
  if (options.clientSecret !== undefined) {
    return { kind: 'secret', value: checkNonEmptyString(options.clientSecret, 'clientSecret', true) };
  }
  if (options.clientSecretFile !== undefined) {
    const path = checkNonEmptyString(options.clientSecretFile, 'clientSecretFile');
    return { kind: 'secret-file', file: new CredentialFile(path, 'clientSecretFile') };
  }
  if (options.clientAssertionFile !== undefined || options.clientAssertion !== undefined) {
    const names = { file: 'clientAssertionFile', function: 'clientAssertion' };
    return {
      kind: 'assertion',
      assertion: ExternalToken.fromOptions(
        names,
        { file: options.clientAssertionFile, function: options.clientAssertion },
        limits,
        true,
      ),
    };
  }
  if (options.tlsClientCertificate !== undefined)
    return {
      kind: 'tls-certificate',
      certificate: TlsClientCertificate.fromOption(options.tlsClientCertificate, limits.clock),
    };
  if (options.privateKey !== undefined) return { kind: 'key', value: options.privateKey, kid };
  const path = checkNonEmptyString(options.privateKeyFile, 'privateKeyFile');
  return {
    kind: 'key-file',
    file: new CredentialFile(path, 'privateKeyFile'),
    parse: (text) => parsePrivateKeyText(text, 'privateKeyFile'),
    kid,
  };
}
