import { SignJWT } from 'jose';
import { None, genericGrantRequest } from 'openid-client';
import type { CredentialFile } from '../credentials/credential-file.js';
import { parseKeyFile, type ServiceAccountKey } from '../credentials/key-file.js';
import { importSigningKey, type SigningKey } from '../credentials/private-key.js';
import { configError } from '../errors.js';
import { describeEndpoint } from '../http/endpoint-url.js';
import { answerTiming, configurationFor, type HttpSettings, type RecordedRequest } from '../http/oauth-http.js';
import { tokenFromAnswer } from '../http/token-response.js';
import { CachedSingleFlight } from '../../common/cached-single-flight.js';
import { RecentSecrets } from '../../common/redact.js';
import type { SourcedToken, TokenRequest, TokenSource } from '../token-source.js';

const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Lifetime of the assertion we sign, in seconds (Google accepts at most an hour). */
const assertionLifetimeSec = 3600;

/** Settings of {@link JwtBearerSource}. */
export interface JwtBearerSettings {
  /** The key file, read again on rotation. */
  readonly file: CredentialFile;
  /** Its path, for messages. */
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
  readonly cacheIdentity: string;
  readonly #settings: JwtBearerSettings;
  /** The key as read and imported on first use; forgotten when the key file rotates. */
  readonly #account = new CachedSingleFlight<{ key: ServiceAccountKey; signingKey: SigningKey }>();
  /** An assertion is as good as the key for its lifetime: a server echoing one must not leak it. */
  readonly #assertions = new RecentSecrets();

  /** @param initial - the key as read at construction, naming the endpoint before the first request. */
  constructor(settings: JwtBearerSettings, initial: ServiceAccountKey) {
    this.#settings = settings;
    this.endpoint = describeEndpoint(initial.tokenUri);
    this.cacheIdentity = JSON.stringify([initial.tokenUri, initial.clientEmail]);
  }

  async fetchToken(request: TokenRequest): Promise<SourcedToken> {
    const { http, defaultLifetimeMs } = this.#settings;
    const { key, signingKey } = await this.#loadAccount();
    const nowSec = Math.floor(http.clock.now() / 1000);
    const claims: Record<string, string> = {};
    if (request.scopes.length > 0) claims.scope = request.scopes.join(' ');
    const assertion = await new SignJWT(claims)
      .setProtectedHeader({ alg: signingKey.alg, typ: 'JWT', kid: key.privateKeyId })
      .setIssuer(key.clientEmail)
      .setAudience(key.tokenUri)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + assertionLifetimeSec)
      .sign(signingKey.key);
    this.#assertions.remember(assertion);

    const record: RecordedRequest = {};
    const metadata = { issuer: key.tokenUri, token_endpoint: key.tokenUri };
    const config = configurationFor(metadata, key.clientEmail, None(), http, request.signal, record);
    const parameters: Record<string, string> = { assertion };
    if (request.audience !== undefined) parameters.audience = request.audience;
    if (request.resource !== undefined) parameters.resource = request.resource;
    const answer = await genericGrantRequest(config, jwtBearerGrant, parameters);
    return tokenFromAnswer(answer, answerTiming(record, http.clock), {
      defaultLifetimeMs,
      requestedScopes: request.scopes,
      endpoint: describeEndpoint(key.tokenUri),
    });
  }

  async reloadCredentials(): Promise<boolean> {
    const changed = await this.#settings.file.reload();
    if (changed) this.#account.forget();
    return changed;
  }

  /** The assertions sent lately, in every encoding. */
  secretValues(): Iterable<string> {
    return this.#assertions.forms();
  }

  #loadAccount(): Promise<{ key: ServiceAccountKey; signingKey: SigningKey }> {
    return this.#account.get(async () => {
      const { file, path } = this.#settings;
      const content = parseKeyFile(await file.read(), path);
      if (content.kind !== 'service_account') throw configError(`key file ${path} is no longer a service-account key`);
      const signingKey = await importSigningKey(
        content.key.privateKey,
        `"private_key" of ${path}`,
        undefined,
        content.key.privateKeyId,
      );
      return { key: content.key, signingKey };
    });
  }
}
