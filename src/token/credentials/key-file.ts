import { configError } from '../errors.js';
import { checkedEndpoint } from '../http/endpoint-url.js';
import { chooseAuthMethod, type ClientCredential, type ResolvedClient } from './client-credential.js';
import type { CredentialFile } from './credential-file.js';
import type { PrivateKeyInput } from './private-key.js';

/** A Google-format service-account key, as far as we use it. */
export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
}

/** A generic OAuth2 client file: the fields of TokenManagerOptions in snake_case. */
export interface OAuthClientFile {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly privateKey?: PrivateKeyInput;
  readonly privateKeyId?: string;
  readonly tokenEndpoint?: string;
  readonly issuer?: string;
  readonly clientAuthMethod?: string;
}

/** What a key file holds. */
export type KeyFileContent =
  | { readonly kind: 'service_account'; readonly key: ServiceAccountKey }
  | { readonly kind: 'oauth_client'; readonly client: OAuthClientFile };

/**
 * Reads a key file's JSON: a Google-format service-account key (`type: "service_account"`) or a
 * generic OAuth2 client file. A missing or malformed field is a `config` TokenError naming the field,
 * and never quoting its value.
 */
export function parseKeyFile(text: string, path: string): KeyFileContent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw configError(`key file ${path} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw configError(`key file ${path} must hold a JSON object`);
  const fields = json as Record<string, unknown>;
  const str = (name: string, required: boolean): string | undefined => {
    const value = fields[name];
    if (value === undefined || value === null || value === '') {
      if (required) throw configError(`key file ${path} has no "${name}"`);
      return undefined;
    }
    if (typeof value !== 'string') throw configError(`key file ${path}: "${name}" must be a string`);
    return value;
  };
  const url = (name: string, value: string | undefined): string | undefined => {
    if (value !== undefined && !URL.canParse(value)) throw configError(`key file ${path}: "${name}" is not a URL`);
    return value;
  };

  if (fields.type === 'service_account') {
    const privateKey = str('private_key', true) as string;
    if (!privateKey.includes('PRIVATE KEY')) throw configError(`key file ${path}: "private_key" is not a PEM private key`);
    const privateKeyId = str('private_key_id', false);
    return {
      kind: 'service_account',
      key: {
        clientEmail: str('client_email', true) as string,
        privateKey,
        tokenUri: url('token_uri', str('token_uri', true)) as string,
        privateKeyId,
      },
    };
  }
  if (fields.type !== undefined && typeof fields.type !== 'string') throw configError(`key file ${path}: "type" must be a string`);
  if (fields.type !== undefined && fields.type !== 'oauth_client') {
    throw configError(`key file ${path}: "type" ${JSON.stringify(String(fields.type).slice(0, 40))} is not supported (use "service_account" or a client file)`);
  }

  const clientSecret = str('client_secret', false);
  const rawKey = fields.private_key;
  if (rawKey !== undefined && typeof rawKey !== 'string' && (typeof rawKey !== 'object' || rawKey === null)) {
    throw configError(`key file ${path}: "private_key" must be a PEM string or a JWK object`);
  }
  if (clientSecret === undefined && rawKey === undefined) throw configError(`key file ${path} has neither "client_secret" nor "private_key"`);
  const tokenEndpoint = url('token_endpoint', str('token_endpoint', false) ?? str('token_uri', false));
  const issuer = url('issuer', str('issuer', false));
  if (tokenEndpoint === undefined && issuer === undefined) throw configError(`key file ${path} has neither "token_endpoint" nor "issuer"`);
  const privateKeyId = str('private_key_id', false);
  const clientAuthMethod = str('client_auth_method', false);
  return {
    kind: 'oauth_client',
    client: {
      clientId: str('client_id', true) as string,
      clientSecret,
      privateKey: rawKey,
      privateKeyId,
      tokenEndpoint,
      issuer,
      clientAuthMethod,
    },
  };
}


/**
 * The OAuth client a client file describes, its credential read from `file` (the key file itself),
 * so that a rotated file is picked up on the next read. Endpoints are checked as the options are.
 */
export function clientFromKeyFile(client: OAuthClientFile, file: CredentialFile, path: string, allowInsecureRequests: boolean): ResolvedClient {
  const field = (name: string): string => `"${name}" of ${path}`;
  const issuer = client.issuer === undefined ? undefined : checkedEndpoint(client.issuer, field('issuer'), allowInsecureRequests);
  const tokenEndpoint =
    client.tokenEndpoint === undefined ? undefined : checkedEndpoint(client.tokenEndpoint, field('token_endpoint'), allowInsecureRequests);
  const freshField = <K extends 'clientSecret' | 'privateKey'>(name: K, fileField: string) => (text: string): NonNullable<OAuthClientFile[K]> => {
    const fresh = parseKeyFile(text, path);
    const value = fresh.kind === 'oauth_client' ? fresh.client[name] : undefined;
    if (value === undefined) throw configError(`key file ${path} has no "${fileField}"`);
    return value;
  };
  const credential: ClientCredential =
    client.clientSecret !== undefined
      ? { kind: 'secret-file', file, parse: freshField('clientSecret', 'client_secret') }
      : { kind: 'key-file', file, parse: freshField('privateKey', 'private_key'), kid: client.privateKeyId };
  const names = { method: field('client_auth_method'), secret: '"client_secret"', key: '"private_key"' };
  return {
    issuer,
    tokenEndpoint,
    clientId: client.clientId,
    clientAuthMethod: chooseAuthMethod(client.clientAuthMethod, credential, names),
    credential,
  };
}
