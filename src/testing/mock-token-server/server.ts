// MockTokenServer: the public class. It owns the state and wires the HTTP side, client
// authentication, grants and faults together; each of those lives in the file named for it.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JWK, type JWTPayload } from 'jose';
import { AssertionVerifier, assertionAlgorithms } from './assertions.js';
import { ClientRegistry, clientAuthMethods } from './client-auth.js';
import { checkBoolean } from '../../common/option-checks.js';
import { FaultQueue } from './faults.js';
import { answerTokenRequest } from './token-endpoint.js';
import {
  advertisedScopes,
  generateSigningKey,
  grantTypes,
  ServiceAccountRegistry,
  TokenIssuer,
  type GrantParties,
  type SigningKey,
} from './grants.js';
import { discoveryMetadata, listenOnLoopback, route, serve, tokenPath, type Clock } from './http.js';
import { checkClient, checkServiceAccount, checkStartOptions, checkTrustedIssuer } from './options.js';
import { SubjectTokenIssuers } from './token-exchange.js';
import type {
  LogEntry,
  MockClient,
  MockDiscovery,
  MockRequestLogEntry,
  MockServiceAccount,
  MockTokenServerOptions,
  MockTrustedIssuer,
  TokenServerFault,
} from './types.js';

/**
 * A real OAuth 2.0 authorization server on 127.0.0.1 (a free port) for tests: discovery documents,
 * a token endpoint for the client-credentials grant (`client_secret_basic`, `client_secret_post`,
 * `private_key_jwt`, federated client assertions), the JWT-bearer and token-exchange grants, a JWKS endpoint, and JWT access tokens signed with
 * jose. Unlike mocks that accept anything, it checks client secrets, client assertions and each
 * client's allowed scopes, so a test sees the failures production would show. Faults can be injected
 * into the next token requests, and every request is logged with its secrets left out.
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
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly issuer: string;
  /** `issuer + '/oauth2/token'`. */
  readonly tokenEndpoint: string;
  /** `issuer + '/.well-known/jwks.json'`. */
  readonly jwksUri: string;
  /** Lifetime of tokens issued from now on, in seconds. */
  tokenLifetimeSec: number;
  /** The discovery documents served; see {@link MockTokenServerOptions.discovery}. */
  readonly discovery: MockDiscovery;

  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #clock: Clock;
  readonly #parties: GrantParties;
  readonly #faults: FaultQueue;
  readonly #log: LogEntry[] = [];
  readonly #signingAlg: 'RS256' | 'ES256';
  #omitExpiresIn = false;
  #tokenRequests = 0;
  #closed: Promise<void> | undefined;

  private constructor(server: Server, options: MockTokenServerOptions, key: SigningKey) {
    this.#server = server;
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.tokenEndpoint = `${this.issuer}${tokenPath}`;
    this.jwksUri = `${this.issuer}/.well-known/jwks.json`;
    this.tokenLifetimeSec = options.tokenLifetimeSec ?? 3600;
    this.omitExpiresIn = options.omitExpiresIn ?? false;
    this.discovery = options.discovery ?? 'both';
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#signingAlg = options.signingAlg ?? 'RS256';
    const assertions = new AssertionVerifier([this.issuer, this.tokenEndpoint], this.#clock);
    this.#parties = {
      clients: new ClientRegistry(assertions),
      accounts: new ServiceAccountRegistry(assertions),
      subjectIssuers: new SubjectTokenIssuers(assertions),
      issuer: new TokenIssuer({
        key,
        issuer: this.issuer,
        defaultAudience: options.audience,
        clock: this.#clock,
      }),
    };
    this.#faults = new FaultQueue(this.#clock);
    serve(server, this.#sockets, this.#clock, (req, res) => this.#handle(req, res));
  }

  /**
   * Starts a server on 127.0.0.1 on a free port (or `options.port`), with a fresh signing key. Call `close()` when done.
   * @throws AuthConfigError (as a rejection) for an unknown option, naming it and the likely intended one.
   */
  static async start(options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
    checkStartOptions(options);
    const key = await generateSigningKey(options.signingAlg ?? 'RS256');
    return new MockTokenServer(await listenOnLoopback(options.port), options, key);
  }

  /**
   * Registers a client of the client-credentials grant, replacing one with the same id.
   * @throws AuthConfigError for an unknown field or authentication method, or when `publicKey` cannot be
   * read as an asymmetric key.
   */
  addClient(client: MockClient): void {
    checkClient(client);
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
   * The next `count` token requests get `fault` instead of a normal answer; then service is normal
   * again. Calls queue up in order: `failNext(2, a); failNext(1, b)` answers a, a, b, then normally.
   * @throws AuthConfigError when `count` is not a whole number >= 0, or for an unknown fault type, an
   * unknown field of it or a mistyped value, before anything is queued; the message names it and the
   * likely intended one.
   */
  failNext(count: number, fault: TokenServerFault): void {
    this.#faults.push(count, fault);
  }

  /** Drops every fault still queued. */
  clearFaults(): void {
    this.#faults.clear();
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
    return this.#tokenRequests;
  }

  /** Access tokens issued so far. */
  get issuedTokenCount(): number {
    return this.#parties.issuer.issuedCount;
  }

  /** Every request so far, oldest first, without secrets, assertions or tokens. */
  get requests(): readonly MockRequestLogEntry[] {
    return [...this.#log];
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

  /** The public signing keys, as the JWKS endpoint serves them. */
  get jwks(): { keys: JWK[] } {
    return this.#parties.issuer.jwks;
  }

  /**
   * Verifies an access token this server issued (signature, `iss`, `exp` on the server's clock) and
   * returns its claims. Rejects with a jose error otherwise.
   */
  async verifyAccessToken(token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks), {
      issuer: this.issuer,
      currentDate: new Date(this.#clock.now()),
    });
    return payload;
  }

  /** Stops the server and destroys every open connection, hanging ones included. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#faults.releaseDelays();
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: LogEntry = {
      time: new Date(this.#clock.now()),
      method: req.method ?? '',
      path: (req.url ?? '/').split('?')[0] ?? '/',
    };
    this.#log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    await route(
      req,
      res,
      entry,
      {
        discovery: this.discovery,
        metadata: () => metadataOf(this, this.#parties),
        jwks: () => this.jwks,
        token: (request, response, logEntry) => {
          this.#tokenRequests++;
          return answerTokenRequest(request, response, logEntry, {
            faults: this.#faults,
            parties: this.#parties,
            clock: this.#clock,
            server: this,
          });
        },
      },
      this.#clock,
    );
  }
}

/** The discovery document `server` serves, as its parties stand now. */
function metadataOf(server: MockTokenServer, parties: GrantParties): Record<string, unknown> {
  const { issuer, tokenEndpoint, jwksUri } = server;
  const scopes = advertisedScopes(parties);
  return discoveryMetadata({
    issuer,
    tokenEndpoint,
    jwksUri,
    grantTypes,
    authMethods: clientAuthMethods,
    assertionAlgorithms,
    scopes,
  });
}
