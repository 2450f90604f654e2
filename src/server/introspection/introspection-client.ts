// Asks an issuer's introspection endpoint (RFC 7662) about one token, through openid-client, with
// the token side's client authentication, bounded fetch and failure wording.
import { ClientError, tokenIntrospection, type IntrospectionResponse, type ServerMetadata } from 'openid-client';
import { CachedSingleFlight } from '../../common/cached-single-flight.js';
import type { Clock } from '../../common/clock.js';
import { secretForms } from '../../common/redact.js';
import { SingleFlight } from '../../common/single-flight.js';
import { ClientAuthentication, type AuthenticatingClient } from '../../token/credentials/client-authentication.js';
import type { TokenError } from '../../token/errors.js';
import { classifyFailure } from '../../token/http/classify-failure.js';
import { discoverMetadata } from '../../token/http/discovery.js';
import { describeEndpoint } from '../../token/http/endpoint-url.js';
import { configurationFor, type HttpSettings } from '../../token/http/oauth-http.js';

/** What {@link IntrospectionClient} needs: whom to ask, as which client, and how long to wait. */
export interface IntrospectionClientSettings {
  readonly issuer: string;
  /** The configured endpoint; `undefined` to discover it. */
  readonly endpoint: string | undefined;
  readonly client: AuthenticatingClient;
  /** Bound of each request (discovery and introspection), body included, in milliseconds. */
  readonly requestTimeoutMs: number;
  readonly allowInsecureRequests: boolean;
  readonly clock: Clock;
}

/**
 * The endpoint could not say whether a token is active: it is down, slow, answered with an error or
 * something that is not an introspection answer, or refused this server's client credentials. The
 * call ends `UNAVAILABLE`: the caller's token is not at fault. The message is for the server's logs:
 * it names the endpoint and what failed, never a token or a secret.
 */
export class IntrospectionUnavailableError extends Error {
  override readonly name = 'IntrospectionUnavailableError';
}

const what = 'introspection endpoint';
/** The server has no close(): its requests end by their timeout only. */
const neverClosed = new AbortController().signal;

/**
 * One issuer's introspection endpoint, as an OAuth client of that issuer: the endpoint configured or
 * found by discovery (once, shared; a failed discovery is tried again by the next request), the client
 * authenticated as `TokenManager` does it. A refusal of the client's credentials (HTTP 400 or 401)
 * makes it read a rotated secret or key file, and ask once more when the file changed.
 */
export class IntrospectionClient {
  readonly #settings: IntrospectionClientSettings;
  readonly #http: HttpSettings;
  readonly #auth: ClientAuthentication;
  readonly #metadata = new CachedSingleFlight<ServerMetadata>();
  /** Concurrent refusals share one re-read of the credential file. */
  readonly #reload = new SingleFlight<boolean>();
  #endpoint: string | undefined;

  constructor(settings: IntrospectionClientSettings) {
    this.#settings = settings;
    const { requestTimeoutMs, allowInsecureRequests, clock } = settings;
    this.#http = { requestTimeoutMs, allowInsecureRequests, clock };
    this.#auth = new ClientAuthentication(settings.client);
    this.#endpoint = settings.endpoint;
  }

  /** The introspection endpoint as safe to print; the issuer until discovery has found the endpoint. */
  get endpoint(): string {
    return describeEndpoint(this.#endpoint ?? this.#settings.issuer);
  }

  /**
   * Finds the endpoint (when not configured) and builds the client authentication (reading a secret or
   * key file, importing a key), so that a broken setup shows before the first call.
   *
   * @throws IntrospectionUnavailableError saying what failed.
   */
  async ready(): Promise<void> {
    await this.#serverMetadata();
    try {
      await this.#auth.get();
    } catch (err) {
      throw this.#unavailable(err, this.#classify(err, ''));
    }
  }

  /**
   * The endpoint's answer about `token`: a JSON object with a boolean `active`, as openid-client
   * checks it.
   *
   * @throws IntrospectionUnavailableError for anything else, naming the endpoint and the failure.
   */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const metadata = await this.#serverMetadata();
    try {
      return await this.#ask(metadata, token);
    } catch (err) {
      const failure = this.#classify(err, token);
      if (!credentialsRefused(failure) || !(await this.#reloadCredential())) throw this.#unavailable(err, failure);
    }
    try {
      return await this.#ask(metadata, token);
    } catch (err) {
      throw this.#unavailable(err, this.#classify(err, token));
    }
  }

  async #ask(metadata: ServerMetadata, token: string): Promise<IntrospectionResponse> {
    const { client } = this.#settings;
    const clientAuth = await this.#auth.get();
    const config = configurationFor(metadata, client.clientId, clientAuth, this.#http, neverClosed, {}, what);
    return tokenIntrospection(config, token);
  }

  #reloadCredential(): Promise<boolean> {
    return this.#reload.run(() => this.#auth.reload()).catch(() => false);
  }

  /** The configured endpoint, else discovery's (RFC 8414, then OpenID Connect); a failure is tried again next time. */
  #serverMetadata(): Promise<ServerMetadata> {
    return this.#metadata.get(async () => {
      const { issuer, endpoint, client } = this.#settings;
      // The issuer is also a client assertion's audience (oauth4webapi puts it in `aud`).
      if (endpoint !== undefined) return { issuer, introspection_endpoint: endpoint };
      try {
        const metadata = await discoverMetadata(
          issuer,
          client.clientId,
          this.#http,
          neverClosed,
          'introspection_endpoint',
        );
        this.#endpoint = metadata.introspection_endpoint;
        return metadata;
      } catch (err) {
        throw new IntrospectionUnavailableError(
          `discovery of the introspection endpoint failed: ${(err as Error).message}`,
        );
      }
    });
  }

  /** A failed request as a TokenError, worded with every secret and the token scrubbed from what the server sent. */
  #classify(err: unknown, token: string): TokenError {
    return classifyFailure(err, {
      endpoint: this.endpoint,
      what,
      secrets: [...this.#auth.secretValues(), ...(token === '' ? [] : secretForms(token))],
      nowMs: this.#settings.clock.now(),
    });
  }

  /** What `err`, classified as `failure`, means for the server's logs. */
  #unavailable(err: unknown, failure: TokenError): IntrospectionUnavailableError {
    const notAnswer = notAnIntrospectionAnswer(err);
    if (notAnswer !== undefined)
      return new IntrospectionUnavailableError(`${what} ${this.endpoint} answered with ${notAnswer}`);
    if (failure.code === 'config')
      return new IntrospectionUnavailableError(`the introspection client's credential is unusable: ${failure.message}`);
    if (credentialsRefused(failure))
      return new IntrospectionUnavailableError(`this server's client credentials were refused: ${failure.message}`);
    return new IntrospectionUnavailableError(failure.message);
  }
}

/**
 * What was wrong with an answer openid-client refused as not being an introspection answer (RFC 7662
 * §2.2: a JSON object with a boolean `active`); `undefined` for any other failure. The token side's
 * wording of these speaks of token responses.
 */
function notAnIntrospectionAnswer(err: unknown): string | undefined {
  if (!(err instanceof ClientError)) return undefined;
  if (err.code === 'OAUTH_RESPONSE_IS_NOT_JSON' || err.code === 'OAUTH_PARSE_ERROR') return 'a body that is not JSON';
  if (err.code === 'OAUTH_INVALID_RESPONSE')
    return 'JSON that is not an introspection answer (an object with a boolean "active")';
  return undefined;
}

/** Whether the endpoint said the client did not authenticate (RFC 7662 §2.3 says 401; some servers say 400). */
function credentialsRefused(failure: TokenError): boolean {
  return failure.code === 'invalid_client' || failure.status === 401 || failure.status === 400;
}
