import {
  ClientSecretBasic,
  ClientSecretPost,
  PrivateKeyJwt,
  clientCredentialsGrant,
  type ClientAuth,
  type ServerMetadata,
} from 'openid-client';
import type { CredentialFile } from './credential-file.js';
import { answerTiming, configurationFor, discoverMetadata, type HttpSettings, type RecordedTiming } from './oauth-http.js';
import { importSigningKey, type PrivateKeyInput, type SigningKey } from './private-key.js';
import { describeEndpoint } from './redact.js';
import { tokenFromAnswer } from './token-response.js';
import type { SourcedToken, TokenRequest, TokenSource } from './token-source.js';

/** How the client proves who it is to the token endpoint. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Where the client's credential comes from: a value, or a file read again on rotation. */
export type ClientCredential =
  | { readonly kind: 'secret'; readonly value: string }
  | { readonly kind: 'secret-file'; readonly file: CredentialFile; readonly parse?: (text: string) => string }
  | { readonly kind: 'key'; readonly value: PrivateKeyInput; readonly kid?: string; readonly alg?: string }
  | { readonly kind: 'key-file'; readonly file: CredentialFile; readonly parse: (text: string) => PrivateKeyInput; readonly kid?: string; readonly alg?: string };

/** Settings of {@link ClientCredentialsSource}. */
export interface ClientCredentialsSettings {
  readonly issuer?: string;
  readonly tokenEndpoint?: string;
  readonly clientId: string;
  readonly clientAuthMethod: ClientAuthMethod;
  readonly credential: ClientCredential;
  readonly http: HttpSettings;
  readonly defaultLifetimeMs: number;
}

/** The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) through openid-client. */
export class ClientCredentialsSource implements TokenSource {
  readonly endpoint: string;
  readonly #settings: ClientCredentialsSettings;
  #metadata: Promise<ServerMetadata> | undefined;
  #clientAuth: Promise<ClientAuth> | undefined;
  #secret: string | undefined;

  constructor(settings: ClientCredentialsSettings) {
    this.#settings = settings;
    this.endpoint = describeEndpoint(settings.tokenEndpoint ?? settings.issuer ?? '');
    if (settings.credential.kind === 'secret') this.#secret = settings.credential.value;
  }

  async fetchToken(request: TokenRequest): Promise<SourcedToken> {
    const { clientId, http, defaultLifetimeMs } = this.#settings;
    const metadata = await this.#serverMetadata(request.signal);
    const clientAuth = await this.#clientAuthentication();
    const timing: RecordedTiming = {};
    const config = configurationFor(metadata, clientId, clientAuth, http, request.signal, timing);
    const parameters: Record<string, string> = {};
    if (request.scopes.length > 0) parameters.scope = request.scopes.join(' ');
    if (request.audience !== undefined) parameters.audience = request.audience;
    if (request.resource !== undefined) parameters.resource = request.resource;
    const answer = await clientCredentialsGrant(config, parameters);
    return tokenFromAnswer(answer, answerTiming(timing, http.clock), {
      defaultLifetimeMs,
      requestedScopes: request.scopes,
      endpoint: describeEndpoint(metadata.token_endpoint ?? this.endpoint),
    });
  }

  async reloadCredentials(): Promise<boolean> {
    const { credential } = this.#settings;
    if (credential.kind !== 'secret-file' && credential.kind !== 'key-file') return false;
    const changed = await credential.file.reload();
    if (changed) this.#clientAuth = undefined;
    return changed;
  }

  secretValues(): Iterable<string> {
    return this.#secret === undefined ? [] : [this.#secret];
  }

  #serverMetadata(closeSignal: AbortSignal): Promise<ServerMetadata> {
    const { issuer, tokenEndpoint, clientId, http } = this.#settings;
    if (tokenEndpoint !== undefined) {
      // No discovery. openid-client uses the issuer only as a client assertion's audience; without a
      // configured issuer, the token endpoint is the audience RFC 7523 §3 says servers accept.
      this.#metadata ??= Promise.resolve({ issuer: issuer ?? tokenEndpoint, token_endpoint: tokenEndpoint });
    }
    // A failed discovery is not cached: the next attempt tries again.
    this.#metadata ??= discoverMetadata(issuer ?? '', clientId, http, closeSignal).catch((err: unknown) => {
      this.#metadata = undefined;
      throw err;
    });
    return this.#metadata;
  }

  #clientAuthentication(): Promise<ClientAuth> {
    this.#clientAuth ??= this.#buildClientAuth().catch((err: unknown) => {
      this.#clientAuth = undefined;
      throw err;
    });
    return this.#clientAuth;
  }

  async #buildClientAuth(): Promise<ClientAuth> {
    const { credential, clientAuthMethod } = this.#settings;
    if (credential.kind === 'secret' || credential.kind === 'secret-file') {
      const secret =
        credential.kind === 'secret' ? credential.value : (credential.parse ?? String)(await credential.file.read());
      this.#secret = secret;
      return clientAuthMethod === 'client_secret_post' ? ClientSecretPost(secret) : ClientSecretBasic(secret);
    }
    const key: SigningKey =
      credential.kind === 'key'
        ? await importSigningKey(credential.value, 'privateKey', credential.alg, credential.kid)
        : await importSigningKey(credential.parse(await credential.file.read()), 'privateKeyFile', credential.alg, credential.kid);
    return PrivateKeyJwt({ key: key.key, ...(key.kid ? { kid: key.kid } : {}) });
  }
}
