import { SignJWT } from 'jose';
import { None, genericGrantRequest } from 'openid-client';
import type { CredentialFile } from './credential-file.js';
import { configError } from './errors.js';
import { answerTiming, configurationFor, type HttpSettings, type RecordedTiming } from './oauth-http.js';
import { importSigningKey, type SigningKey } from './private-key.js';
import { describeEndpoint } from './redact.js';
import { tokenFromAnswer } from './token-response.js';
import type { SourcedToken, TokenRequest, TokenSource } from './token-source.js';

const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Lifetime of the assertion we sign, in seconds (Google accepts at most an hour). */
const assertionLifetimeSec = 3600;

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
  readonly privateKey?: string | Record<string, unknown>;
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
        ...(privateKeyId ? { privateKeyId } : {}),
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
      ...(clientSecret !== undefined ? { clientSecret } : {}),
      ...(rawKey !== undefined ? { privateKey: rawKey as string | Record<string, unknown> } : {}),
      ...(privateKeyId !== undefined ? { privateKeyId } : {}),
      ...(tokenEndpoint !== undefined ? { tokenEndpoint } : {}),
      ...(issuer !== undefined ? { issuer } : {}),
      ...(clientAuthMethod !== undefined ? { clientAuthMethod } : {}),
    },
  };
}

/** Settings of {@link JwtBearerSource}. */
export interface JwtBearerSettings {
  readonly file: CredentialFile;
  readonly path: string;
  readonly http: HttpSettings;
  readonly defaultLifetimeMs: number;
}

/**
 * A service-account key used with the JWT-bearer grant (RFC 7523 §2.1), as Google's token endpoint
 * expects: an assertion signed with the account's key, with the scopes in its `scope` claim.
 */
export class JwtBearerSource implements TokenSource {
  readonly endpoint: string;
  readonly #settings: JwtBearerSettings;
  #account: Promise<{ key: ServiceAccountKey; signingKey: SigningKey }> | undefined;

  constructor(settings: JwtBearerSettings, initial: ServiceAccountKey) {
    this.#settings = settings;
    this.endpoint = describeEndpoint(initial.tokenUri);
  }

  async fetchToken(request: TokenRequest): Promise<SourcedToken> {
    const { http, defaultLifetimeMs } = this.#settings;
    const { key, signingKey } = await this.#loadAccount();
    const nowSec = Math.floor(http.clock.now() / 1000);
    const claims: Record<string, string> = {};
    if (request.scopes.length > 0) claims.scope = request.scopes.join(' ');
    const assertion = await new SignJWT(claims)
      .setProtectedHeader({ alg: signingKey.alg, typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) })
      .setIssuer(key.clientEmail)
      .setAudience(key.tokenUri)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + assertionLifetimeSec)
      .sign(signingKey.key);

    const timing: RecordedTiming = {};
    const metadata = { issuer: key.tokenUri, token_endpoint: key.tokenUri };
    const config = configurationFor(metadata, key.clientEmail, None(), http, request.signal, timing);
    const parameters: Record<string, string> = { assertion };
    if (request.audience !== undefined) parameters.audience = request.audience;
    if (request.resource !== undefined) parameters.resource = request.resource;
    const answer = await genericGrantRequest(config, jwtBearerGrant, parameters);
    return tokenFromAnswer(answer, answerTiming(timing, http.clock), {
      defaultLifetimeMs,
      requestedScopes: request.scopes,
      endpoint: describeEndpoint(key.tokenUri),
    });
  }

  async reloadCredentials(): Promise<boolean> {
    const changed = await this.#settings.file.reload();
    if (changed) this.#account = undefined;
    return changed;
  }

  #loadAccount(): Promise<{ key: ServiceAccountKey; signingKey: SigningKey }> {
    this.#account ??= (async () => {
      const { file, path } = this.#settings;
      const content = parseKeyFile(await file.read(), path);
      if (content.kind !== 'service_account') throw configError(`key file ${path} is no longer a service-account key`);
      const signingKey = await importSigningKey(content.key.privateKey, `"private_key" of ${path}`, undefined, content.key.privateKeyId);
      return { key: content.key, signingKey };
    })().catch((err: unknown) => {
      this.#account = undefined;
      throw err;
    });
    return this.#account;
  }
}
