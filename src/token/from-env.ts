import { AuthConfigError } from '../common/config-error.js';
import { closestName } from '../common/option-checks.js';
import type { TokenManagerOptions } from './options.js';
import { credentialNames } from './credentials/client-credential.js';

/** Options of `TokenManager.fromEnv`: any TokenManager option, winning over the environment. */
export type FromEnvOverrides = TokenManagerOptions;

/**
 * The variables `TokenManager.fromEnv` reads, and the option each one sets. The secret is read from
 * `OAUTH2_CLIENT_SECRET` itself or from a file; it never comes from a command line.
 */
const envVariables = {
  OAUTH2_ISSUER: 'issuer',
  OAUTH2_TOKEN_ENDPOINT: 'tokenEndpoint',
  OAUTH2_CLIENT_ID: 'clientId',
  OAUTH2_CLIENT_SECRET: 'clientSecret',
  OAUTH2_CLIENT_SECRET_FILE: 'clientSecretFile',
  OAUTH2_PRIVATE_KEY_FILE: 'privateKeyFile',
  OAUTH2_CLIENT_ASSERTION_FILE: 'clientAssertionFile',
  OAUTH2_TLS_CERT_FILE: 'tlsClientCertificate.certFile',
  OAUTH2_TLS_KEY_FILE: 'tlsClientCertificate.keyFile',
  OAUTH2_TLS_CA_FILE: 'tlsClientCertificate.caFile',
  OAUTH2_SCOPES: 'scopes',
  OAUTH2_AUDIENCE: 'audience',
  OAUTH2_RESOURCE: 'resource',
  OAUTH2_ALLOW_INSECURE_REQUESTS: 'allowInsecureRequests',
} as const;

type EnvVariable = keyof typeof envVariables;

const credentialVariables: readonly EnvVariable[] = [
  'OAUTH2_CLIENT_SECRET',
  'OAUTH2_CLIENT_SECRET_FILE',
  'OAUTH2_PRIVATE_KEY_FILE',
  'OAUTH2_CLIENT_ASSERTION_FILE',
  'OAUTH2_TLS_CERT_FILE',
];
/** Parts of the TLS client certificate credential besides OAUTH2_TLS_CERT_FILE, which stands for it. */
const tlsVariables: readonly EnvVariable[] = ['OAUTH2_TLS_KEY_FILE', 'OAUTH2_TLS_CA_FILE'];
const endpointVariables: readonly EnvVariable[] = ['OAUTH2_ISSUER', 'OAUTH2_TOKEN_ENDPOINT'];
const credentialOptions = new Set<string>(credentialNames);

/**
 * TokenManager options from `env` and `overrides`. An empty variable counts as unset (as
 * `${VAR:-}` in a compose file leaves it). A misspelled `OAUTH2_*` name (one close to a known one)
 * is an error; other `OAUTH2_*` names (another tool's) are left alone. An endpoint or credential in
 * `overrides` replaces the environment's whole group, so it never contradicts it.
 *
 * @throws AuthConfigError naming the variable that is missing, misspelled or contradicts another;
 * never a value.
 * @example
 * ```ts
 * optionsFromEnv({ OAUTH2_TOKEN_ENDPOINT: url, OAUTH2_CLIENT_ID: 'orders-svc', OAUTH2_CLIENT_SECRET_FILE: '/run/secrets/oauth2' });
 * ```
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv, overrides: FromEnvOverrides = {}): TokenManagerOptions {
  if (typeof overrides !== 'object' || overrides === null)
    throw new AuthConfigError('fromEnv overrides must be an object');
  const known = Object.keys(envVariables);
  for (const name of Object.keys(env)) {
    if (!name.startsWith('OAUTH2_') || known.includes(name)) continue;
    const suggestion = closestName(name, known);
    if (suggestion !== undefined)
      throw new AuthConfigError(`unknown environment variable ${name}; did you mean ${suggestion}?`);
  }
  const value = (name: EnvVariable): string | undefined => (env[name]?.trim() ? env[name] : undefined);
  const given = (names: readonly EnvVariable[]): EnvVariable[] => names.filter((name) => value(name) !== undefined);

  const options: Record<string, unknown> = {};
  const overridden = (names: readonly string[]): boolean =>
    names.some((name) => (overrides as Record<string, unknown>)[name] !== undefined);
  if (!overridden(['issuer', 'tokenEndpoint', 'tokenSource'])) {
    if (given(endpointVariables).length === 0)
      throw new AuthConfigError('set OAUTH2_ISSUER (discovery) or OAUTH2_TOKEN_ENDPOINT');
    options.issuer = value('OAUTH2_ISSUER');
    options.tokenEndpoint = value('OAUTH2_TOKEN_ENDPOINT');
  }
  if (!overridden(['clientId', 'tokenSource'])) {
    options.clientId = value('OAUTH2_CLIENT_ID');
    if (options.clientId === undefined) throw new AuthConfigError('set OAUTH2_CLIENT_ID');
  }
  if (!overridden([...credentialOptions, 'tokenSource'])) {
    const credentials = given(credentialVariables);
    const stray = given(tlsVariables);
    if (stray.length > 0 && !credentials.includes('OAUTH2_TLS_CERT_FILE'))
      throw new AuthConfigError(`${stray.join(' and ')} set without OAUTH2_TLS_CERT_FILE`);
    if (credentials.length === 0) throw new AuthConfigError(`set one of ${credentialVariables.join(', ')}`);
    if (credentials.length > 1)
      throw new AuthConfigError(`${credentials.join(' and ')} are both set; set only one credential`);
    const credential = credentials[0] as EnvVariable;
    if (credential === 'OAUTH2_TLS_CERT_FILE') options.tlsClientCertificate = tlsFromEnv(value);
    else options[envVariables[credential]] = value(credential);
  }
  const scopes = value('OAUTH2_SCOPES');
  if (scopes !== undefined) options.scopes = scopes.trim().split(/\s+/);
  options.audience = value('OAUTH2_AUDIENCE');
  options.resource = value('OAUTH2_RESOURCE');
  const insecure = value('OAUTH2_ALLOW_INSECURE_REQUESTS');
  if (insecure !== undefined && insecure !== 'true' && insecure !== 'false')
    throw new AuthConfigError('OAUTH2_ALLOW_INSECURE_REQUESTS must be true or false');
  if (insecure !== undefined) options.allowInsecureRequests = insecure === 'true';

  // Overrides last; unset variables leave no key behind, so TokenManager's own checks see only what was given.
  const merged: Record<string, unknown> = {};
  for (const [key, option] of Object.entries({ ...options, ...overrides }))
    if (option !== undefined) merged[key] = option;
  return merged;
}

/** `tlsClientCertificate` from OAUTH2_TLS_CERT_FILE, OAUTH2_TLS_KEY_FILE (required with it) and OAUTH2_TLS_CA_FILE. */
function tlsFromEnv(value: (name: EnvVariable) => string | undefined): Record<string, string> {
  const keyFile = value('OAUTH2_TLS_KEY_FILE');
  if (keyFile === undefined) throw new AuthConfigError('OAUTH2_TLS_CERT_FILE is set without OAUTH2_TLS_KEY_FILE');
  const caFile = value('OAUTH2_TLS_CA_FILE');
  return { certFile: value('OAUTH2_TLS_CERT_FILE')!, keyFile, ...(caFile === undefined ? {} : { caFile }) };
}
