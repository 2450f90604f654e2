import { clientCredentialsGrant, genericGrantRequest, getDPoPHandle, type ServerMetadata } from 'openid-client';
import { ClientAuthentication } from '../credentials/client-authentication.js';
import type { ResolvedClient } from '../credentials/client-credential.js';
import { discoverMetadata } from '../http/discovery.js';
import { describeEndpoint } from '../http/endpoint-url.js';
import { MtlsRoute } from '../http/mtls-route.js';
import { answerTiming, configurationFor, type HttpSettings, type RecordedRequest } from '../http/oauth-http.js';
import type { ProxyOption } from '../http/proxy.js';
import { classifyFailure } from '../http/classify-failure.js';
import { tokenFromAnswer } from '../http/token-response.js';
import { TokenError } from '../errors.js';
import { CachedSingleFlight } from '../../common/cached-single-flight.js';
import type { SourcedToken, TokenRequest, TokenSource } from '../token-source.js';
import type { ClientGrant } from './token-exchange.js';
import type { ResolvedDpop } from '../dpop/dpop-options.js';

/** Settings of {@link ClientCredentialsSource}: a checked client and how to reach its server. */
export interface ClientCredentialsSettings extends ResolvedClient {
  readonly http: HttpSettings;
  readonly defaultLifetimeMs: number;
  /** Another grant to make instead of client credentials (token exchange). Default none. */
  readonly grant?: ClientGrant;
  /** The `proxy` option, for the route of a TLS client certificate. Default: the environment's proxy. */
  readonly proxy?: ProxyOption;
  /** Ask for DPoP-bound tokens with this key (RFC 9449). Default none: bearer tokens. */
  readonly dpop?: ResolvedDpop;
}

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
  readonly #clientAuth: ClientAuthentication;
  /** Set for a client with a TLS client certificate: its requests present it (RFC 8705). */
  readonly #mtls: MtlsRoute | undefined;

  constructor(settings: ClientCredentialsSettings) {
    this.#settings = settings;
    this.#tokenEndpoint = settings.tokenEndpoint;
    this.cacheIdentity =
      settings.grant === undefined
        ? JSON.stringify([settings.tokenEndpoint ?? settings.issuer, settings.clientId])
        : undefined;
    this.#clientAuth = new ClientAuthentication(settings);
    const { credential } = settings;
    if (credential.kind === 'tls-certificate') this.#mtls = new MtlsRoute(credential.certificate, settings.proxy);
  }

  /** The token endpoint as safe to print; the issuer until discovery has found the endpoint. */
  get endpoint(): string {
    return describeEndpoint(this.#tokenEndpoint ?? this.#settings.issuer ?? '');
  }

  async fetchToken(request: TokenRequest): Promise<SourcedToken> {
    const { clientId, defaultLifetimeMs, grant, dpop } = this.#settings;
    const http = await this.#http();
    const metadata = await this.#serverMetadata(request.signal, http);
    const clientAuth = await this.#clientAuth.get();
    const grantParameters = await grant?.parameters();
    const record: RecordedRequest = {};
    const config = configurationFor(metadata, clientId, clientAuth, http, request.signal, record);
    // openid-client signs the proof (dated by the config's clock skew) and retries once with the
    // server's nonce on `use_dpop_nonce`. A handle per request, as the config: the nonce is learnt anew
    // by each token request, which costs one round trip with a server that requires one.
    const options = dpop === undefined ? undefined : { DPoP: getDPoPHandle(config, (await dpop.key).keyPair) };
    const parameters: Record<string, string> = {};
    if (request.scopes.length > 0) parameters.scope = request.scopes.join(' ');
    if (request.audience !== undefined) parameters.audience = request.audience;
    if (request.resource !== undefined) parameters.resource = request.resource;
    let answer: Awaited<ReturnType<typeof clientCredentialsGrant>>;
    try {
      answer =
        grant === undefined
          ? await clientCredentialsGrant(config, parameters, options)
          : await genericGrantRequest(config, grant.grantType, { ...parameters, ...grantParameters }, options);
    } catch (err) {
      throw this.#withExpiredNotes(err);
    }
    grant?.checkAnswer(answer, this.endpoint);
    return tokenFromAnswer(answer, answerTiming(record, http.clock), {
      defaultLifetimeMs,
      requestedScopes: request.scopes,
      endpoint: this.endpoint,
      dpop: dpop && { acceptBearer: dpop.acceptBearer },
    });
  }

  async reloadCredentials(): Promise<boolean> {
    const [client, grant] = await Promise.all([
      this.#clientAuth.reload(),
      this.#settings.grant?.reloadCredentials() ?? false,
    ]);
    return client || grant;
  }

  /** The secret in every encoding it travels in, the client assertions and grant tokens sent lately, the proxy's credentials. */
  secretValues(): Iterable<string> {
    const { grant, http } = this.#settings;
    return [...this.#clientAuth.secretValues(), ...(grant?.secretValues() ?? []), ...(http.proxy?.secrets ?? [])];
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

  /** The HTTP settings of this request: with a TLS client certificate, a route presenting its current pair. */
  async #http(): Promise<HttpSettings> {
    const { http } = this.#settings;
    if (this.#mtls === undefined) return http;
    return { ...http, proxy: await this.#mtls.current(), useMtlsEndpointAliases: true };
  }

  /** The configured token endpoint, else discovery's; a failed discovery is tried again next time. */
  #serverMetadata(closeSignal: AbortSignal, http: HttpSettings): Promise<ServerMetadata> {
    return this.#metadata.get(async () => {
      const { issuer, tokenEndpoint, clientId } = this.#settings;
      // No discovery. openid-client uses the issuer only as a client assertion's audience; without a
      // configured issuer, the token endpoint is the audience RFC 7523 §3 says servers accept.
      if (tokenEndpoint !== undefined) return { issuer: issuer ?? tokenEndpoint, token_endpoint: tokenEndpoint };
      const metadata = await discoverMetadata(issuer ?? '', clientId, http, closeSignal);
      const alias = http.useMtlsEndpointAliases ? metadata.mtls_endpoint_aliases?.token_endpoint : undefined;
      this.#tokenEndpoint = alias ?? metadata.token_endpoint;
      if (this.#mtls !== undefined && !this.#tokenEndpoint?.startsWith('https:')) {
        throw new TokenError(
          'config',
          `discovery document of ${describeEndpoint(issuer ?? '')} gives the token endpoint ${this.endpoint}, ` +
            'not https: a TLS client certificate needs TLS',
        );
      }
      return metadata;
    });
  }
}
