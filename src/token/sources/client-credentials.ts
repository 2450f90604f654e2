import {
  ClientSecretBasic,
  ClientSecretPost,
  None,
  PrivateKeyJwt,
  clientCredentialsGrant,
  genericGrantRequest,
  type ClientAuth,
  type ServerMetadata,
} from 'openid-client';
import type { ResolvedClient } from '../credentials/client-credential.js';
import type { ExternalToken } from '../credentials/external-token.js';
import { importSigningKey } from '../credentials/private-key.js';
import { discoverMetadata } from '../http/discovery.js';
import { describeEndpoint } from '../http/endpoint-url.js';
import { answerTiming, configurationFor, type HttpSettings, type RecordedRequest } from '../http/oauth-http.js';
import { classifyFailure } from '../http/classify-failure.js';
import { tokenFromAnswer } from '../http/token-response.js';
import { TokenError } from '../errors.js';
import { CachedSingleFlight } from '../../common/cached-single-flight.js';
import { RecentSecrets, secretForms } from '../../common/redact.js';
import type { SourcedToken, TokenRequest, TokenSource } from '../token-source.js';
import type { ClientGrant } from './token-exchange.js';

/** Settings of {@link ClientCredentialsSource}: a checked client and how to reach its server. */
export interface ClientCredentialsSettings extends ResolvedClient {
  readonly http: HttpSettings;
  readonly defaultLifetimeMs: number;
  /** Another grant to make instead of client credentials (token exchange). Default none. */
  readonly grant?: ClientGrant;
}

const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) through openid-client, or another grant
 * the client makes with the same authentication (`settings.grant`: RFC 8693 token exchange).
 */
export class ClientCredentialsSource implements TokenSource {
  /**
   * Unset with another grant: its tokens are the subject's, not the client's, and two workloads with
   * the same client and token file path (every pod mounts it at one path) must not share them.
   */
  readonly cacheIdentity: string | undefined;
  readonly #settings: ClientCredentialsSettings;
  readonly #metadata = new CachedSingleFlight<ServerMetadata>();
  /** The token endpoint, once known (at once when configured, after discovery otherwise). */
  #tokenEndpoint: string | undefined;
  /** Forgotten when a rotated credential file is read. */
  readonly #clientAuth = new CachedSingleFlight<ClientAuth>();
  /** Every encoding of the client secret in use; none for a private key. */
  #secretForms: readonly string[] = [];
  readonly #assertions = new RecentSecrets();

  constructor(settings: ClientCredentialsSettings) {
    this.#settings = settings;
    this.#tokenEndpoint = settings.tokenEndpoint;
    this.cacheIdentity =
      settings.grant === undefined
        ? JSON.stringify([settings.tokenEndpoint ?? settings.issuer, settings.clientId])
        : undefined;
    if (settings.credential.kind === 'secret')
      this.#secretForms = secretForms(settings.credential.value, settings.clientId);
  }

  /** The token endpoint as safe to print; the issuer until discovery has found the endpoint. */
  get endpoint(): string {
    return describeEndpoint(this.#tokenEndpoint ?? this.#settings.issuer ?? '');
  }

  async fetchToken(request: TokenRequest): Promise<SourcedToken> {
    const { clientId, http, defaultLifetimeMs, grant } = this.#settings;
    const metadata = await this.#serverMetadata(request.signal);
    const clientAuth = await this.#clientAuthentication();
    const grantParameters = await grant?.parameters();
    const record: RecordedRequest = {};
    const config = configurationFor(metadata, clientId, clientAuth, http, request.signal, record);
    const parameters: Record<string, string> = {};
    if (request.scopes.length > 0) parameters.scope = request.scopes.join(' ');
    if (request.audience !== undefined) parameters.audience = request.audience;
    if (request.resource !== undefined) parameters.resource = request.resource;
    let answer: Awaited<ReturnType<typeof clientCredentialsGrant>>;
    try {
      answer =
        grant === undefined
          ? await clientCredentialsGrant(config, parameters)
          : await genericGrantRequest(config, grant.grantType, { ...parameters, ...grantParameters });
    } catch (err) {
      throw this.#withExpiredNotes(err);
    }
    grant?.checkAnswer(answer, this.endpoint);
    return tokenFromAnswer(answer, answerTiming(record, http.clock), {
      defaultLifetimeMs,
      requestedScopes: request.scopes,
      endpoint: this.endpoint,
    });
  }

  async reloadCredentials(): Promise<boolean> {
    const [client, grant] = await Promise.all([
      this.#reloadClientCredential(),
      this.#settings.grant?.reloadCredentials() ?? false,
    ]);
    return client || grant;
  }

  /** The secret in every encoding it travels in, the client assertions and grant tokens sent lately, the proxy's credentials. */
  secretValues(): Iterable<string> {
    const { grant, http } = this.#settings;
    return [
      ...this.#secretForms,
      ...this.#assertions.forms(),
      ...(grant?.secretValues() ?? []),
      ...(http.proxy?.secrets ?? []),
    ];
  }

  async #reloadClientCredential(): Promise<boolean> {
    const { credential } = this.#settings;
    if (credential.kind === 'assertion') return credential.assertion.reload();
    if (credential.kind !== 'secret-file' && credential.kind !== 'key-file') return false;
    const changed = await credential.file.reload();
    if (changed) this.#clientAuth.forget();
    return changed;
  }

  /**
   * A refusal (`invalid_client`, `invalid_grant`) of a request that carried a JWT already expired by
   * this machine's clock says so: that is the likely cause, which the server's answer alone hides.
   */
  #withExpiredNotes(err: unknown): unknown {
    const { credential, grant, http } = this.#settings;
    const assertionNote = credential.kind === 'assertion' ? credential.assertion.expiredNote : undefined;
    const notes = [...(assertionNote === undefined ? [] : [assertionNote]), ...(grant?.expiredNotes() ?? [])];
    if (notes.length === 0) return err;
    const error = classifyFailure(err, {
      endpoint: this.endpoint,
      secrets: this.secretValues(),
      nowMs: http.clock.now(),
    });
    if (error.code !== 'invalid_client' && error.code !== 'invalid_grant') return error;
    const { retryable, status, retryAfterMs } = error;
    return new TokenError(error.code, `${error.message}; ${notes.join('; ')}`, {
      retryable,
      status,
      retryAfterMs,
      cause: error,
    });
  }

  /** The configured token endpoint, else discovery's; a failed discovery is tried again next time. */
  #serverMetadata(closeSignal: AbortSignal): Promise<ServerMetadata> {
    return this.#metadata.get(async () => {
      const { issuer, tokenEndpoint, clientId, http } = this.#settings;
      // No discovery. openid-client uses the issuer only as a client assertion's audience; without a
      // configured issuer, the token endpoint is the audience RFC 7523 §3 says servers accept.
      if (tokenEndpoint !== undefined) return { issuer: issuer ?? tokenEndpoint, token_endpoint: tokenEndpoint };
      const metadata = await discoverMetadata(issuer ?? '', clientId, http, closeSignal);
      this.#tokenEndpoint = metadata.token_endpoint;
      return metadata;
    });
  }

  /** Built on first use and kept until the credential rotates; a failed build is tried again next time. */
  #clientAuthentication(): Promise<ClientAuth> {
    return this.#clientAuth.get(() => this.#buildClientAuth());
  }

  async #buildClientAuth(): Promise<ClientAuth> {
    const { credential, clientAuthMethod, clientId } = this.#settings;
    if (credential.kind === 'none') return None();
    if (credential.kind === 'assertion') return this.#sendAssertion(credential.assertion);
    if (credential.kind === 'secret' || credential.kind === 'secret-file') {
      const secret =
        credential.kind === 'secret' ? credential.value : (credential.parse ?? String)(await credential.file.read());
      this.#secretForms = secretForms(secret, clientId);
      return clientAuthMethod === 'client_secret_post' ? ClientSecretPost(secret) : ClientSecretBasic(secret);
    }
    const input = credential.kind === 'key' ? credential.value : credential.parse(await credential.file.read());
    const key = await importSigningKey(
      input,
      credential.kind === 'key' ? 'privateKey' : 'privateKeyFile',
      undefined,
      credential.kid,
    );
    // openid-client signs a fresh client_assertion into the body of each request; note it, so that a
    // server echoing it back is scrubbed like one echoing a secret. ClientAuth is typed as returning
    // void, but PrivateKeyJwt's is async and openid-client awaits it, as it awaits ours.
    const signAssertion = PrivateKeyJwt({ key: key.key, kid: key.kid }) as (
      ...args: Parameters<ClientAuth>
    ) => Promise<void>;
    const rememberingAssertions = async (...args: Parameters<ClientAuth>): Promise<void> => {
      await signAssertion(...args);
      this.#assertions.remember(args[2].get('client_assertion'));
    };
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- awaited by openid-client, see above
    return rememberingAssertions;
  }

  /**
   * RFC 7523 §2.2 with a JWT signed elsewhere (the platform's): openid-client awaits this hook for
   * every request, so each request takes the assertion as the file or function gives it then.
   */
  #sendAssertion(assertion: ExternalToken): ClientAuth {
    const { clientId } = this.#settings;
    const send = async (_as: ServerMetadata, _client: unknown, body: URLSearchParams): Promise<void> => {
      const jwt = await assertion.current();
      this.#assertions.remember(jwt);
      body.set('client_id', clientId);
      body.set('client_assertion_type', clientAssertionType);
      body.set('client_assertion', jwt);
    };
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- awaited by openid-client, as PrivateKeyJwt's is
    return send;
  }
}
