// MockTokenServer: the public class. It owns the state and wires the HTTP side, client
// authentication, grants, token status endpoints and faults together; each of those lives in the
// file named for it.
import type { JWK, JWTPayload } from 'jose';
import { checkBoolean } from '../../common/option-checks.js';
import type { GrantParties } from './grants.js';
import { introspectionPath, revocationPath, tokenPath } from './http.js';
import { Listeners } from './listeners.js';
import type { MockMtlsEndpointAliases } from './mtls-types.js';
import {
  checkClient,
  checkFaultOptions,
  checkServiceAccount,
  checkStartOptions,
  checkTrustedIssuer,
} from './options.js';
import { partiesOf } from './parties.js';
import { handleRequest, newServerState, type ServerState } from './request-handler.js';
import { generateSigningKey, releaseSigningKey, takeSigningKey, type SigningKey } from './token-issuer.js';
import type {
  MockClient,
  MockDiscovery,
  MockFaultOptions,
  MockRequestLogEntry,
  MockServiceAccount,
  MockTokenServerOptions,
  MockTrustedIssuer,
  TokenServerFault,
} from './types.js';

/**
 * A real OAuth 2.0 authorization server on 127.0.0.1 (a free port) for tests: discovery documents,
 * a token endpoint for the client-credentials grant (`client_secret_basic`, `client_secret_post`,
 * `private_key_jwt`, federated client assertions), the JWT-bearer and token-exchange grants, a JWKS
 * endpoint, access tokens that are JWTs signed with jose or opaque strings, and introspection (RFC 7662)
 * and revocation (RFC 7009) endpoints, and DPoP-bound tokens (RFC 9449) for requests with a proof.
 * Unlike mocks that accept anything, it checks client secrets, client assertions, DPoP proofs and each
 * client's allowed scopes, so a test sees the failures production would show. Faults can be injected
 * into the next requests of each endpoint, and every request is logged with its secrets and tokens left out.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { test } from 'node:test';
 * import { TokenManager } from 'grpc-oauth2-credentials';
 * import { MockTokenServer } from 'grpc-oauth2-credentials/testing';
 *
 * test('the orders client gets a token and survives one outage', async (t) => {
 *   const server = await MockTokenServer.start();
 *   t.after(() => server.close());
 *   server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret', allowedScopes: ['orders.read'] });
 *
 *   const tokens = new TokenManager({
 *     issuer: server.issuer,
 *     clientId: 'orders-svc',
 *     clientSecret: 'test-secret',
 *     scopes: ['orders.read'],
 *     allowInsecureRequests: true, // the mock speaks plain http on loopback
 *   });
 *   t.after(() => tokens.close());
 *
 *   server.failNext(1, { type: 'error', status: 503, retryAfter: 1 }); // the first attempt fails
 *   const token = await tokens.getToken();
 *   const claims = await server.verifyAccessToken(token.accessToken);
 *   assert.equal(claims.sub, 'orders-svc');
 *   assert.equal(server.tokenRequestCount, 2);
 * });
 * ```
 */
export class MockTokenServer {
  /** `http://127.0.0.1:<port>` (`https://` with the `tls` option), without a trailing slash. */
  readonly issuer: string;
  /** `issuer + '/oauth2/token'`. */
  readonly tokenEndpoint: string;
  /** `issuer + '/oauth2/introspect'`: the RFC 7662 introspection endpoint, also in the discovery documents. */
  readonly introspectionEndpoint: string;
  /** `issuer + '/oauth2/revoke'`: the RFC 7009 revocation endpoint, also in the discovery documents. */
  readonly revocationEndpoint: string;
  /** `issuer + '/.well-known/jwks.json'`. */
  readonly jwksUri: string;
  /** Lifetime of tokens issued from now on, in seconds. */
  tokenLifetimeSec: number;
  /** The discovery documents served; see {@link MockTokenServerOptions.discovery}. */
  readonly discovery: MockDiscovery;
  /** With `tls`: RFC 8705's `mtls_endpoint_aliases`, as in discovery (see `MockTlsCertificates`); else `undefined`. */
  readonly mtlsEndpointAliases: MockMtlsEndpointAliases | undefined;

  readonly #listeners: Listeners;
  readonly #state: ServerState;
  readonly #parties: GrantParties;
  readonly #signingAlg: 'RS256' | 'ES256';
  #omitExpiresIn = false;
  #closed: Promise<void> | undefined;

  private constructor(listeners: Listeners, options: MockTokenServerOptions, key: SigningKey) {
    this.#listeners = listeners;
    this.issuer = listeners.origin;
    this.tokenEndpoint = `${this.issuer}${tokenPath}`;
    this.introspectionEndpoint = `${this.issuer}${introspectionPath}`;
    this.revocationEndpoint = `${this.issuer}${revocationPath}`;
    this.jwksUri = `${this.issuer}/.well-known/jwks.json`;
    this.mtlsEndpointAliases = listeners.mtlsEndpointAliases;
    this.tokenLifetimeSec = options.tokenLifetimeSec ?? 3600;
    this.omitExpiresIn = options.omitExpiresIn ?? false;
    this.discovery = options.discovery ?? 'both';
    const clock = options.clock ?? { now: () => Date.now() };
    this.#signingAlg = options.signingAlg ?? 'RS256';
    const audiences = [this.issuer, this.tokenEndpoint, this.mtlsEndpointAliases?.token_endpoint];
    this.#parties = partiesOf(audiences, key, this.issuer, options, clock);
    this.#state = newServerState(clock, this.#parties, options.dpopNonce ?? false);
    listeners.serve(clock, (req, res, listener) => handleRequest(this, this.#state, req, res, listener));
  }

  /**
   * Starts a server on 127.0.0.1 on a free port (or `options.port`), with a signing key of its own (a
   * closed server's key may be reused, under a new `kid`: making an RSA key costs 160 ms); with
   * `tls`, over HTTPS, plus the mutual TLS listener on a free port. Call `close()` when done.
   * @throws AuthConfigError (as a rejection) for an unknown option, naming it and the likely intended
   * one, and for `tls` certificates that are unreadable, do not match their key or do not name 127.0.0.1.
   */
  static async start(options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
    checkStartOptions(options);
    const key = await takeSigningKey(options.signingAlg ?? 'RS256');
    try {
      return new MockTokenServer(await Listeners.open(options.port, options.tls), options, key);
    } catch (error) {
      releaseSigningKey(key);
      throw error;
    }
  }

  /**
   * Registers a client of the client-credentials grant, replacing one with the same id. Any client
   * may also call the introspection endpoint, and revoke its own tokens. With the `tls` option, a
   * client may authenticate with its certificate instead (RFC 8705; see `MockClientCertificateAuth`).
   * @throws AuthConfigError for an unknown field, authentication method or token format, when
   * `publicKey` cannot be read as an asymmetric key, for mutual TLS fields without the `tls` option,
   * more than one `tlsClientAuth*` name, or a self-signed certificate that is not PEM.
   */
  addClient(client: MockClient): void {
    checkClient(client, this.mtlsEndpointAliases !== undefined);
    this.#parties.clients.add(client);
  }

  /**
   * Registers a service account for the JWT-bearer grant, replacing one with the same email.
   * @throws AuthConfigError for an unknown field, or when `publicKey` cannot be read as an asymmetric key.
   */
  addServiceAccount(account: MockServiceAccount): void {
    checkServiceAccount(account);
    this.#parties.accounts.add(account);
  }

  /**
   * Trusts the JWTs of `issuer` as subject and actor tokens of the token-exchange grant (RFC 8693),
   * replacing an issuer with the same `iss`. Issued tokens have the subject token's `sub`.
   * @throws AuthConfigError for an unknown field, or when `publicKey` cannot be read as an asymmetric key.
   */
  addSubjectTokenIssuer(issuer: MockTrustedIssuer): void {
    checkTrustedIssuer(issuer, 'addSubjectTokenIssuer');
    this.#parties.subjectIssuers.add(issuer);
  }

  /**
   * The next `count` requests to the token endpoint (or to `options.endpoint`: `'introspection'`,
   * `'revocation'`) get `fault` instead of a normal answer; then service is normal again. Calls queue
   * up in order per endpoint: `failNext(2, a); failNext(1, b)` answers a, a, b, then normally.
   * @throws AuthConfigError when `count` is not a whole number >= 0, for an unknown fault type, an
   * unknown field of it or a mistyped value, for an unknown endpoint, or for a `token` fault at another
   * endpoint than the token endpoint, before anything is queued; the message names it and the likely
   * intended one.
   */
  failNext(count: number, fault: TokenServerFault, options?: MockFaultOptions): void {
    checkFaultOptions(options);
    this.#state.faults[options?.endpoint ?? 'token'].push(count, fault);
  }

  /** Drops every fault still queued, at every endpoint. */
  clearFaults(): void {
    for (const queue of Object.values(this.#state.faults)) queue.clear();
  }

  /** Leave `expires_in` out of token answers from now on. */
  get omitExpiresIn(): boolean {
    return this.#omitExpiresIn;
  }

  /** @throws AuthConfigError for anything but `true` or `false`. */
  set omitExpiresIn(omit: boolean) {
    this.#omitExpiresIn = checkBoolean(omit, 'omitExpiresIn') ?? false;
  }

  /** Requests to the token endpoint so far, faulted and rejected ones included. */
  get tokenRequestCount(): number {
    return this.#state.requestCounts.token;
  }

  /** Requests to the introspection endpoint so far, faulted and rejected ones included. */
  get introspectionRequestCount(): number {
    return this.#state.requestCounts.introspection;
  }

  /** Requests to the revocation endpoint so far, faulted and rejected ones included. */
  get revocationRequestCount(): number {
    return this.#state.requestCounts.revocation;
  }

  /** Access tokens issued so far, of either format. */
  get issuedTokenCount(): number {
    return this.#parties.issuer.issuedCount;
  }

  /** Every request so far, oldest first, without secrets, assertions or tokens. */
  get requests(): readonly MockRequestLogEntry[] {
    return [...this.#state.log];
  }

  /**
   * Signs the tokens issued from now on with a fresh key (same algorithm) that the JWKS endpoint then
   * serves alone, as after a key compromise: tokens signed before no longer verify. Resolves with its `kid`.
   */
  async rotateSigningKey(): Promise<string> {
    const key = await generateSigningKey(this.#signingAlg);
    this.#parties.issuer.rotate(key);
    return key.publicJwk.kid!;
  }

  /** Requires a DPoP nonce (RFC 9449 §8; see `dpopNonce`) from now on: a fresh one, returned, that replaces the last. */
  rotateDpopNonce(): string {
    return this.#state.dpop.rotateNonce();
  }

  /** The public signing keys, as the JWKS endpoint serves them. */
  get jwks(): { keys: JWK[] } {
    return this.#parties.issuer.jwks;
  }

  /**
   * Checks an access token this server issued as a resource server would, and returns its claims.
   * A JWT is verified as its signature, `iss` and `exp` (on the server's clock) say, without asking
   * whether it was revoked; rejects with a jose error otherwise. An opaque token can only be read by
   * the server, as its introspection endpoint does: rejects with jose's `JWTExpired` once expired, and
   * with an `Error` once revoked. No error holds the token.
   */
  verifyAccessToken(token: string): Promise<JWTPayload> {
    return this.#parties.issuer.verify(token);
  }

  /**
   * Revokes an access token this server issued, JWT or opaque, as its revocation endpoint would for
   * the token's own client: the introspection endpoint answers `{ active: false }` for it from now on.
   * Resolves with `true` if the token was live, `false` if it was unknown, expired or already revoked.
   */
  async revokeToken(token: string): Promise<boolean> {
    const known = await this.#parties.issuer.stateOf(token);
    if (known.state !== 'live') return false;
    this.#parties.issuer.revoke(token, known.claims);
    return true;
  }

  /** Stops the server (both listeners) and destroys every open connection, hanging ones included. Idempotent. */
  close(): Promise<void> {
    if (this.#closed === undefined) {
      for (const queue of Object.values(this.#state.faults)) queue.releaseDelays();
      this.#closed = this.#listeners.close().then(() => releaseSigningKey(this.#parties.issuer.key));
    }
    return this.#closed;
  }
}
