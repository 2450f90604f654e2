// Checks of what a test hands the mock (start options, clients, service accounts), so that a
// misspelled or mistyped option fails at once with its name, as the SDK's own options do, instead of
// being ignored and leaving the test to fail somewhere else.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { AuthConfigError } from '../../common/config-error.js';
import { describeType } from '../../common/describe.js';
import { checkBoolean, checkNonEmptyString, checkOptionNames } from '../../common/option-checks.js';
import type { TestCertificates } from '../certificates.js';
import { clientAuthMethods } from './client-auth.js';
import { isMtlsMethod, subjectFields } from './mtls-client-auth.js';
import type { MockTlsCertificates } from './mtls-types.js';
import type {
  MockAccessTokenFormat,
  MockClient,
  MockDiscovery,
  MockFaultEndpoint,
  MockFaultOptions,
  MockFederatedCredential,
  MockServiceAccount,
  MockTokenServerOptions,
  MockTrustedIssuer,
} from './types.js';

/**
 * The option names of `T`, listed once: the compiler checks the list against `T` in both directions,
 * so a new option cannot be forgotten here.
 */
export function namesOf<T>(names: Record<keyof T, true>): readonly string[] {
  return Object.keys(names);
}

const startOptionNames = namesOf<MockTokenServerOptions>({
  tokenLifetimeSec: true,
  omitExpiresIn: true,
  clock: true,
  audience: true,
  signingAlg: true,
  discovery: true,
  port: true,
  accessTokenFormat: true,
  tls: true,
  dpopNonce: true,
});
// A TestCertificates result may be passed as is: its fields other than the three used are ignored.
const tlsOptionNames = namesOf<TestCertificates>({
  caCert: true,
  serverCert: true,
  serverKey: true,
  caCertBuffer: true,
  serverCertBuffer: true,
  serverKeyBuffer: true,
  issueClientCertificate: true,
});
const clientOptionNames = namesOf<MockClient>({
  clientId: true,
  clientSecret: true,
  publicKey: true,
  allowedScopes: true,
  authMethods: true,
  federatedCredential: true,
  accessTokenFormat: true,
  tlsClientAuthSubjectDn: true,
  tlsClientAuthSanUri: true,
  tlsClientAuthSanDns: true,
  selfSignedCertificates: true,
  tlsClientCertificateBoundAccessTokens: true,
  dpopBoundAccessTokens: true,
});
const issuerOptionNames = namesOf<MockTrustedIssuer>({ issuer: true, publicKey: true, audience: true });
const federatedOptionNames = namesOf<MockFederatedCredential>({
  issuer: true,
  publicKey: true,
  audience: true,
  subject: true,
});
const accountOptionNames = namesOf<MockServiceAccount>({ clientEmail: true, publicKey: true, allowedScopes: true });
const discoveryModes: readonly MockDiscovery[] = ['both', 'oauth', 'oidc', 'none'];
const accessTokenFormats: readonly MockAccessTokenFormat[] = ['jwt', 'opaque'];
const faultOptionNames = namesOf<MockFaultOptions>({ endpoint: true });
const faultEndpoints: readonly MockFaultEndpoint[] = ['token', 'introspection', 'revocation'];
const signingAlgs: readonly NonNullable<MockTokenServerOptions['signingAlg']>[] = ['RS256', 'ES256'];

/** Throws an AuthConfigError for an unknown or mistyped option of `MockTokenServer.start`. */
export function checkStartOptions(options: MockTokenServerOptions): void {
  checkOptionNames(options, startOptionNames, 'MockTokenServer option');
  checkBoolean(options.omitExpiresIn, 'MockTokenServer option omitExpiresIn');
  checkBoolean(options.dpopNonce, 'MockTokenServer option dpopNonce');
  checkOneOf(options.discovery, discoveryModes, 'MockTokenServer option discovery');
  checkOneOf(options.signingAlg, signingAlgs, 'MockTokenServer option signingAlg');
  checkOneOf(options.accessTokenFormat, accessTokenFormats, 'MockTokenServer option accessTokenFormat');
  const { port } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
    throw new AuthConfigError('MockTokenServer option port must be an integer from 0 to 65535');
  if (options.tls !== undefined) checkTls(options.tls);
}

/**
 * Throws an AuthConfigError for `tls` certificates that are missing, unreadable, not matching their
 * key or not naming 127.0.0.1. Never quotes a value: one is a private key.
 */
function checkTls(tls: MockTlsCertificates): void {
  checkOptionNames(tls, tlsOptionNames, 'MockTokenServer tls option');
  for (const name of ['caCert', 'serverCert', 'serverKey'] as const) {
    const value: unknown = tls[name];
    if ((typeof value !== 'string' && !Buffer.isBuffer(value)) || value.length === 0)
      throw new AuthConfigError(`MockTokenServer tls.${name} must be PEM text or a Buffer, not ${describeType(value)}`);
  }
  const certificate = (name: 'caCert' | 'serverCert'): X509Certificate => {
    try {
      return new X509Certificate(tls[name]);
    } catch {
      throw new AuthConfigError(`MockTokenServer tls.${name} is not a PEM certificate`);
    }
  };
  certificate('caCert');
  const server = certificate('serverCert');
  let matches: boolean;
  try {
    matches = server.checkPrivateKey(createPrivateKey(tls.serverKey));
  } catch {
    throw new AuthConfigError('MockTokenServer tls.serverKey is not a PEM private key');
  }
  if (!matches) throw new AuthConfigError('MockTokenServer tls.serverKey does not match tls.serverCert');
  if (server.checkIP('127.0.0.1') === undefined)
    throw new AuthConfigError('MockTokenServer tls.serverCert must name 127.0.0.1 (an IP SAN), where the mock listens');
}

/**
 * Throws an AuthConfigError for an unknown field or authentication method of `addClient`, or for
 * mutual TLS fields that are malformed, ambiguous, or given to a server without `tls`.
 */
export function checkClient(client: MockClient, tls: boolean): void {
  checkOptionNames(client, clientOptionNames, 'addClient option');
  checkListOf(client.authMethods, clientAuthMethods, 'addClient authMethods', 'method');
  checkOptionNames(client.federatedCredential, federatedOptionNames, 'addClient federatedCredential option');
  checkOneOf(client.accessTokenFormat, accessTokenFormats, 'addClient accessTokenFormat');
  checkBoolean(client.tlsClientCertificateBoundAccessTokens, 'addClient tlsClientCertificateBoundAccessTokens');
  checkBoolean(client.dpopBoundAccessTokens, 'addClient dpopBoundAccessTokens');
  const names = subjectFields.filter((name) => client[name] !== undefined);
  for (const name of names) checkNonEmptyString(client[name], `addClient ${name}`);
  if (names.length > 1)
    throw new AuthConfigError(
      `addClient: give one of ${subjectFields.join(', ')}, not ${names.length} (RFC 8705 §2.1.2)`,
    );
  const certificates = checkSelfSigned(client.selfSignedCertificates);
  const methods = client.authMethods ?? [];
  if (methods.includes('tls_client_auth') && names.length === 0)
    throw new AuthConfigError(`addClient authMethods tls_client_auth needs one of ${subjectFields.join(', ')}`);
  if (methods.includes('self_signed_tls_client_auth') && certificates === 0)
    throw new AuthConfigError('addClient authMethods self_signed_tls_client_auth needs selfSignedCertificates');
  const mtlsField = [...names, 'selfSignedCertificates', 'tlsClientCertificateBoundAccessTokens'].find(
    (name) => client[name as keyof MockClient] !== undefined,
  );
  const mtlsMethod = methods.find(isMtlsMethod);
  if (!tls && (mtlsField ?? mtlsMethod) !== undefined)
    throw new AuthConfigError(
      `addClient ${mtlsField ?? `authMethods ${mtlsMethod}`} needs a server started with the tls option`,
    );
}

/** The number of certificates in `selfSignedCertificates`; throws unless each is a PEM certificate. */
function checkSelfSigned(value: unknown): number {
  if (value === undefined) return 0;
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [value];
  if (list.length === 0)
    throw new AuthConfigError('addClient selfSignedCertificates must hold at least one certificate');
  list.forEach((pem, index) => {
    try {
      if (typeof pem !== 'string') throw new TypeError();
      new X509Certificate(pem);
    } catch {
      const where = typeof value === 'string' ? '' : `[${index}]`;
      throw new AuthConfigError(`addClient selfSignedCertificates${where} is not a PEM certificate`);
    }
  });
  return list.length;
}

/** Throws an AuthConfigError for an unknown option or endpoint of `failNext`. */
export function checkFaultOptions(options: MockFaultOptions | undefined): void {
  checkOptionNames(options, faultOptionNames, 'failNext option');
  checkOneOf(options?.endpoint, faultEndpoints, 'failNext option endpoint');
}

/** Throws an AuthConfigError for an unknown field of a trusted issuer given to `where`. */
export function checkTrustedIssuer(issuer: MockTrustedIssuer, where: string): void {
  checkOptionNames(issuer, issuerOptionNames, `${where} option`);
}

/** Throws an AuthConfigError for an unknown field of `addServiceAccount`. */
export function checkServiceAccount(account: MockServiceAccount): void {
  checkOptionNames(account, accountOptionNames, 'addServiceAccount option');
}

/** Throws unless `value` is `undefined` or one of `allowed`. Values are test settings, never secrets, so the message may show them. */
export function checkOneOf(value: unknown, allowed: readonly string[], name: string): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    throw new AuthConfigError(`${name} must be one of ${allowed.map((option) => `"${option}"`).join(', ')}`);
  }
}

/** Throws unless `values` is `undefined` or an array of `allowed` values, naming the first unknown one as a `noun`. */
export function checkListOf(values: unknown, allowed: readonly string[], name: string, noun: string): void {
  if (values === undefined) return;
  if (!Array.isArray(values)) throw new AuthConfigError(`${name} must be an array`);
  const unknown: unknown = values.find((value) => !allowed.includes(value as string));
  if (unknown !== undefined)
    throw new AuthConfigError(
      `${name}: unknown ${noun} ${JSON.stringify(unknown)}; the ${noun}s are ${allowed.join(', ')}`,
    );
}
