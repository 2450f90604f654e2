import { readFileSync } from 'node:fs';
import { ClientCredentialsSource } from '../client-credentials.js';
import { CredentialFile } from '../credential-file.js';
import { configError } from '../errors.js';
import type { HttpSettings } from '../oauth-http.js';
import { checkedEndpoint, resolveClient, type TokenManagerOptions } from '../options.js';
import { JwtBearerSource, parseKeyFile } from '../service-account.js';
import type { TokenSource } from '../token-source.js';

/** What every source needs besides its credential. */
export interface SourceSettings {
  readonly http: HttpSettings;
  readonly defaultLifetimeMs: number;
}

/** The OAuth client options as a client-credentials {@link TokenSource}. */
export function createTokenSource(options: TokenManagerOptions, settings: SourceSettings): TokenSource {
  const client = resolveClient(options, settings.http.allowInsecureRequests);
  return new ClientCredentialsSource({ ...client, ...settings });
}

/** A JSON key file as a {@link TokenSource}. */
export function tokenSourceFromKeyFile(path: string, settings: SourceSettings): TokenSource {
  if (typeof path !== 'string' || path === '') throw configError('fromServiceAccountFile needs the key file path');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(`key file ${path} could not be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  const content = parseKeyFile(text, path);
  const file = new CredentialFile(path, 'key file');
  if (content.kind === 'service_account') {
    checkedEndpoint(content.key.tokenUri, `"token_uri" of ${path}`, settings.http.allowInsecureRequests);
    return new JwtBearerSource({ file, path, ...settings }, content.key);
  }
  const { client } = content;
  const fromFile = (field: 'client_secret' | 'private_key') => (fileText: string) => {
    const fresh = parseKeyFile(fileText, path);
    const value = fresh.kind === 'oauth_client' ? (field === 'client_secret' ? fresh.client.clientSecret : fresh.client.privateKey) : undefined;
    if (value === undefined) throw configError(`key file ${path} has no "${field}"`);
    return value;
  };
  const resolvedClient = resolveClient(
    {
      issuer: client.issuer,
      tokenEndpoint: client.tokenEndpoint,
      clientId: client.clientId,
      // Only to pick and check the auth method; the credential itself is read from the file.
      ...(client.clientSecret !== undefined ? { clientSecret: client.clientSecret } : { privateKey: 'key' }),
      clientAuthMethod: client.clientAuthMethod as 'client_secret_basic' | undefined,
    },
    settings.http.allowInsecureRequests,
  );
  const credential =
    client.clientSecret !== undefined
      ? ({ kind: 'secret-file', file, parse: fromFile('client_secret') as (text: string) => string } as const)
      : ({ kind: 'key-file', file, parse: fromFile('private_key') as (text: string) => string, kid: client.privateKeyId } as const);
  return new ClientCredentialsSource({ ...resolvedClient, credential, ...settings });
}
