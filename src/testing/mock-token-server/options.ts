// Checks of what a test hands the mock (start options, clients, service accounts), so that a
// misspelled or mistyped option fails at once with its name, as the SDK's own options do, instead of
// being ignored and leaving the test to fail somewhere else.
import { AuthConfigError } from '../../common/config-error.js';
import { checkBoolean, checkOptionNames } from '../../common/option-checks.js';
import { clientAuthMethods } from './client-auth.js';
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
});
const clientOptionNames = namesOf<MockClient>({
  clientId: true,
  clientSecret: true,
  publicKey: true,
  allowedScopes: true,
  authMethods: true,
  federatedCredential: true,
  accessTokenFormat: true,
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
  checkOneOf(options.discovery, discoveryModes, 'MockTokenServer option discovery');
  checkOneOf(options.signingAlg, signingAlgs, 'MockTokenServer option signingAlg');
  checkOneOf(options.accessTokenFormat, accessTokenFormats, 'MockTokenServer option accessTokenFormat');
  const { port } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
    throw new AuthConfigError('MockTokenServer option port must be an integer from 0 to 65535');
}

/** Throws an AuthConfigError for an unknown field or authentication method of `addClient`. */
export function checkClient(client: MockClient): void {
  checkOptionNames(client, clientOptionNames, 'addClient option');
  checkListOf(client.authMethods, clientAuthMethods, 'addClient authMethods', 'method');
  checkOptionNames(client.federatedCredential, federatedOptionNames, 'addClient federatedCredential option');
  checkOneOf(client.accessTokenFormat, accessTokenFormats, 'addClient accessTokenFormat');
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
