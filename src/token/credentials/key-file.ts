import { AuthConfigError } from '../../common/config-error.js';
import { TokenError, configError } from '../errors.js';
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
 * generic OAuth2 client file, as read again while getting a token (after a rotation). A missing or
 * malformed field is a `config` TokenError naming the field, and never quoting its value.
 */
export function parseKeyFile(text: string, path: string): KeyFileContent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw configError(`key file ${path} is not valid JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw configError(`key file ${path} must hold a JSON object`);
  const fields = new KeyFileFields(json as Record<string, unknown>, path);
  const type = fields.optional('type');
  if (type === 'service_account') return { kind: 'service_account', key: serviceAccountKey(fields) };
  if (type !== undefined && type !== 'oauth_client') {
    throw configError(
      `key file ${path}: "type" ${JSON.stringify(type.slice(0, 40))} is not supported (use "service_account" or a client file)`,
    );
  }
  return { kind: 'oauth_client', client: clientFile(fields) };
}

/**
 * {@link parseKeyFile} for the file as read at construction, where a malformed file is a bad option:
 * an AuthConfigError with the same message.
 */
export function parseKeyFileNow(text: string, path: string): KeyFileContent {
  try {
    return parseKeyFile(text, path);
  } catch (err) {
    if (err instanceof TokenError) throw new AuthConfigError(err.message);
    throw err;
  }
}

function serviceAccountKey(fields: KeyFileFields): ServiceAccountKey {
  const privateKey = fields.required('private_key');
  if (!privateKey.includes('PRIVATE KEY')) throw fields.error('"private_key" is not a PEM private key');
  return {
    clientEmail: fields.required('client_email'),
    privateKey,
    tokenUri: fields.url('token_uri', fields.required('token_uri')),
    privateKeyId: fields.optional('private_key_id'),
  };
}

function clientFile(fields: KeyFileFields): OAuthClientFile {
  const clientSecret = fields.optional('client_secret');
  const privateKey = fields.raw('private_key');
  if (
    privateKey !== undefined &&
    typeof privateKey !== 'string' &&
    (typeof privateKey !== 'object' || privateKey === null)
  ) {
    throw fields.error('"private_key" must be a PEM string or a JWK object');
  }
  if (clientSecret === undefined && privateKey === undefined)
    throw fields.error('has neither "client_secret" nor "private_key"', ' ');
  const tokenEndpoint = fields.url('token_endpoint', fields.optional('token_endpoint') ?? fields.optional('token_uri'));
  const issuer = fields.url('issuer', fields.optional('issuer'));
  if (tokenEndpoint === undefined && issuer === undefined)
    throw fields.error('has neither "token_endpoint" nor "issuer"', ' ');
  return {
    clientId: fields.required('client_id'),
    clientSecret,
    privateKey,
    privateKeyId: fields.optional('private_key_id'),
    tokenEndpoint,
    issuer,
    clientAuthMethod: fields.optional('client_auth_method'),
  };
}

/** Reads the fields of a key file; messages name the file and the field, never a value. */
class KeyFileFields {
  readonly #fields: Record<string, unknown>;
  readonly #path: string;

  constructor(fields: Record<string, unknown>, path: string) {
    this.#fields = fields;
    this.#path = path;
  }

  raw(name: string): unknown {
    return this.#fields[name];
  }

  /** A string field; absent, `null` and `''` all count as not given. */
  optional(name: string): string | undefined {
    const value = this.#fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw this.error(`"${name}" must be a string`);
    return value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw this.error(`has no "${name}"`, ' ');
    return value;
  }

  url<T extends string | undefined>(name: string, value: T): T {
    if (value !== undefined && !URL.canParse(value)) throw this.error(`"${name}" is not a URL`);
    return value;
  }

  /** `key file <path>: <what>`, or `key file <path> <what>` with `separator` ' '. */
  error(what: string, separator = ': '): Error {
    return configError(`key file ${this.#path}${separator}${what}`);
  }
}

/**
 * The OAuth client a client file describes, its credential read from `file` (the key file itself),
 * so that a rotated file is picked up on the next read. Endpoints are checked as the options are, at
 * construction (an AuthConfigError); the credential as each read finds it (a `config` TokenError).
 */
export function clientFromKeyFile(
  client: OAuthClientFile,
  file: CredentialFile,
  path: string,
  allowInsecureRequests: boolean,
): ResolvedClient {
  const field = (name: string): string => `"${name}" of ${path}`;
  const issuer =
    client.issuer === undefined ? undefined : checkedEndpoint(client.issuer, field('issuer'), allowInsecureRequests);
  const tokenEndpoint =
    client.tokenEndpoint === undefined
      ? undefined
      : checkedEndpoint(client.tokenEndpoint, field('token_endpoint'), allowInsecureRequests);
  const freshField =
    <K extends 'clientSecret' | 'privateKey'>(name: K, fileField: string) =>
    (text: string): NonNullable<OAuthClientFile[K]> => {
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
