import { KeyObject, createPublicKey, randomUUID, type JsonWebKey, type webcrypto } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose';

const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const authMethodsSupported = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
const assertionAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Largest request body read, in bytes; a bigger one gets 413. */
const maxRequestBytes = 64 * 1024;
/** Longest life of a JWT-bearer assertion (`exp - iat`), in seconds, as Google's token endpoint allows. */
const maxAssertionLifetimeSec = 3600;

/** Client authentication methods the mock server accepts at its token endpoint. */
export type MockClientAuthMethod = (typeof authMethodsSupported)[number];

/** Options of {@link MockTokenServer.start}. */
export interface MockTokenServerOptions {
  /** Lifetime of issued tokens, in seconds. Default 3600. Settable later as `server.tokenLifetimeSec`. */
  tokenLifetimeSec?: number;
  /** Leave `expires_in` out of token answers (the JWT still has `exp`). Default `false`. */
  omitExpiresIn?: boolean;
  /**
   * Where the server reads time (milliseconds since the epoch) for `iat`, `exp`, assertion checks and
   * the `Date` header. Default `Date.now`. Pass the `ManualClock` your code under test uses.
   */
  clock?: { now(): number };
  /** `aud` of tokens when the request names no `audience` or `resource`. Default `'https://api.example.test'`. */
  audience?: string;
  /** Algorithm of the token signing key. Default `'RS256'`. */
  signingAlg?: 'RS256' | 'ES256';
}

/** A client of the client-credentials grant; see {@link MockTokenServer.addClient}. */
export interface MockClient {
  /** The `client_id`. */
  readonly clientId: string;
  /** Secret for `client_secret_basic` and `client_secret_post`. */
  readonly clientSecret?: string;
  /**
   * Key that verifies this client's `private_key_jwt` assertions: a JWK, a PEM (SPKI public key or
   * X.509 certificate) or a CryptoKey. A private key is accepted too; only its public half is kept.
   */
  readonly publicKey?: JWK | CryptoKey | string;
  /** Scopes this client may get. Default: any scope. */
  readonly allowedScopes?: readonly string[];
  /** Methods this client may authenticate with. Default: those its credentials allow. */
  readonly authMethods?: readonly MockClientAuthMethod[];
}

/** A service account of the JWT-bearer grant (RFC 7523), as with a Google-format key file. */
export interface MockServiceAccount {
  /** The key file's `client_email`: the `iss` of its assertions. */
  readonly clientEmail: string;
  /** Key matching the key file's private key: a JWK, a PEM (SPKI or X.509 certificate) or a CryptoKey. */
  readonly publicKey: JWK | CryptoKey | string;
  /** Scopes this account may get. Default: any scope. */
  readonly allowedScopes?: readonly string[];
}

/** What the next token requests get instead of a normal answer; see {@link MockTokenServer.failNext}. */
export type TokenServerFault =
  /**
   * That HTTP status, with an OAuth JSON error body `{ error, error_description }` when `error` is
   * set (plain text otherwise) and `Retry-After` when `retryAfter` is (seconds or an HTTP date).
   * `wwwAuthenticate` adds `WWW-Authenticate: Basic realm="mock", error="..."`; default: when the
   * status is 401.
   */
  | {
      readonly type: 'error';
      readonly status: number;
      readonly error?: string;
      readonly errorDescription?: string;
      readonly retryAfter?: string | number;
      readonly wwwAuthenticate?: boolean;
    }
  /** The normal answer, `ms` milliseconds late. */
  | { readonly type: 'delay'; readonly ms: number }
  /** Read the request, never answer (until `close()`). */
  | { readonly type: 'hang' }
  /** Send 200 headers, then nothing more (slow loris) until `close()`. */
  | { readonly type: 'hang-after-headers' }
  /** Drop the connection without an answer. */
  | { readonly type: 'reset' }
  /** Send 200 headers and part of a JSON body, then drop the connection. */
  | { readonly type: 'reset-mid-body' }
  /**
   * This raw answer: malformed JSON, wrong types, huge bodies, redirects... `status` defaults to 200,
   * `contentType` to `'application/json'`; `headers` are added last and may override both.
   */
  | {
      readonly type: 'body';
      readonly status?: number;
      readonly contentType?: string;
      readonly body: string | Buffer;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** An HTML error page (`text/html`), as a proxy in front of a broken server sends. Default status 502. */
  | { readonly type: 'html'; readonly status?: number };

/** One request as the server saw it. It never holds a secret, assertion, `Authorization` header or token. */
export interface MockRequestLogEntry {
  /** When the request arrived, on the server's clock. */
  readonly time: Date;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly grantType?: string;
  /** The client id or service-account email the request claimed, verified or not. */
  readonly clientId?: string;
  /** How the client authenticated; `'none'` for the JWT-bearer grant. */
  readonly authMethod?: MockClientAuthMethod | 'none';
  /** Scopes asked for, space-separated (for the JWT-bearer grant, those in the assertion). */
  readonly scope?: string;
  readonly audience?: string;
  /** `resource` parameters, space-separated. */
  readonly resource?: string;
  /** Status of the answer; unset until a whole answer was sent, so unset for `hang`, `reset`, ... */
  readonly status?: number;
  /** The type of the injected fault that answered, if one did. */
  readonly fault?: TokenServerFault['type'];
}

type LogEntry = { -readonly [K in keyof MockRequestLogEntry]: MockRequestLogEntry[K] };

interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly verifyKey?: KeyObject;
  readonly verifyAlgorithms?: string[];
  readonly allowedScopes?: readonly string[];
  readonly authMethods: readonly MockClientAuthMethod[];
}

interface RegisteredAccount {
  readonly clientEmail: string;
  readonly verifyKey: KeyObject;
  readonly verifyAlgorithms?: string[];
  readonly allowedScopes?: readonly string[];
}

/** An OAuth error answer, thrown inside request handling and turned into the response. */
class OAuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Whether the client used Basic: RFC 6749 §5.2 then asks for a matching `WWW-Authenticate`. */
    readonly basicChallenge = false,
  ) {
    super(description);
  }
}

/**
 * A real OAuth 2.0 authorization server on 127.0.0.1 (a free port) for tests: discovery documents,
 * a token endpoint for the client-credentials grant (`client_secret_basic`, `client_secret_post`,
 * `private_key_jwt`) and the JWT-bearer grant, a JWKS endpoint, and JWT access tokens signed with
 * jose. Unlike mocks that accept anything, it checks client secrets, client assertions and each
 * client's allowed scopes, so a test sees the failures production would show. Faults can be injected
 * into the next token requests, and every request is logged with its secrets left out.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { after, test } from 'node:test';
 * import { TokenManager } from 'grpc-oauth2-credentials';
 * import { MockTokenServer } from 'grpc-oauth2-credentials/testing';
 *
 * test('the orders client gets a token and survives one outage', async () => {
 *   const server = await MockTokenServer.start();
 *   after(() => server.close());
 *   server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret', allowedScopes: ['orders.read'] });
 *
 *   const tokens = new TokenManager({
 *     issuer: server.issuer,
 *     clientId: 'orders-svc',
 *     clientSecret: 'test-secret',
 *     scopes: ['orders.read'],
 *     allowInsecureRequests: true, // the mock speaks plain http on loopback
 *   });
 *   after(() => tokens.close());
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
  /** Leave `expires_in` out of token answers from now on. */
  omitExpiresIn: boolean;

  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Pending `delay` faults: close() resolves them so no handler is left waiting. */
  readonly #delays = new Map<NodeJS.Timeout, () => void>();
  readonly #clock: { now(): number };
  readonly #audience: string;
  readonly #signingKey: CryptoKey;
  readonly #publicJwk: JWK;
  readonly #clients = new Map<string, RegisteredClient>();
  readonly #accounts = new Map<string, RegisteredAccount>();
  readonly #faults: TokenServerFault[] = [];
  readonly #usedAssertionIds = new Set<string>();
  readonly #log: LogEntry[] = [];
  #tokenRequests = 0;
  #issuedTokens = 0;
  #closed: Promise<void> | undefined;

  private constructor(server: Server, options: MockTokenServerOptions, signingKey: CryptoKey, publicJwk: JWK) {
    this.#server = server;
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.tokenEndpoint = `${this.issuer}/oauth2/token`;
    this.jwksUri = `${this.issuer}/.well-known/jwks.json`;
    this.tokenLifetimeSec = options.tokenLifetimeSec ?? 3600;
    this.omitExpiresIn = options.omitExpiresIn ?? false;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#audience = options.audience ?? 'https://api.example.test';
    this.#signingKey = signingKey;
    this.#publicJwk = publicJwk;
  }

  /** Starts a server on 127.0.0.1 on a free port, with a fresh signing key. Call `close()` when done. */
  static async start(options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
    const alg = options.signingAlg ?? 'RS256';
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' };
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const mock = new MockTokenServer(server, options, privateKey, publicJwk);
    mock.#attach();
    return mock;
  }

  /**
   * Registers a client of the client-credentials grant, replacing one with the same id.
   * @throws TypeError when `publicKey` cannot be read as an asymmetric key.
   */
  addClient(client: MockClient): void {
    const allowed: MockClientAuthMethod[] = [];
    if (client.clientSecret !== undefined) allowed.push('client_secret_basic', 'client_secret_post');
    if (client.publicKey !== undefined) allowed.push('private_key_jwt');
    this.#clients.set(client.clientId, {
      clientId: client.clientId,
      ...(client.clientSecret !== undefined ? { clientSecret: client.clientSecret } : {}),
      ...(client.publicKey !== undefined ? verifierOf(client.publicKey) : {}),
      ...(client.allowedScopes ? { allowedScopes: [...client.allowedScopes] } : {}),
      authMethods: client.authMethods ? [...client.authMethods] : allowed,
    });
  }

  /**
   * Registers a service account for the JWT-bearer grant, replacing one with the same email.
   * @throws TypeError when `publicKey` cannot be read as an asymmetric key.
   */
  addServiceAccount(account: MockServiceAccount): void {
    this.#accounts.set(account.clientEmail, {
      clientEmail: account.clientEmail,
      ...verifierOf(account.publicKey),
      ...(account.allowedScopes ? { allowedScopes: [...account.allowedScopes] } : {}),
    });
  }

  /**
   * The next `count` token requests get `fault` instead of a normal answer; then service is normal
   * again. Calls queue up in order: `failNext(2, a); failNext(1, b)` answers a, a, b, then normally.
   */
  failNext(count: number, fault: TokenServerFault): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('failNext: count must be a whole number >= 0');
    for (let i = 0; i < count; i++) this.#faults.push(fault);
  }

  /** Drops every fault still queued. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Requests to the token endpoint so far, faulted and rejected ones included. */
  get tokenRequestCount(): number {
    return this.#tokenRequests;
  }

  /** Access tokens issued so far. */
  get issuedTokenCount(): number {
    return this.#issuedTokens;
  }

  /** Every request so far, oldest first, without secrets, assertions or tokens. */
  get requests(): readonly MockRequestLogEntry[] {
    return [...this.#log];
  }

  /** The public signing keys, as the JWKS endpoint serves them. */
  get jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.#publicJwk }] };
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
      for (const [timer, release] of this.#delays) {
        clearTimeout(timer);
        release();
      }
      this.#delays.clear();
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  #attach(): void {
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('error', () => undefined);
    this.#server.on('clientError', (_err, socket) => socket.destroy());
    this.#server.on('request', (req, res) => {
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      this.#handle(req, res).catch(() => {
        // A bug here or a fault with unusable headers: answer 500 rather than crash the test run.
        try {
          this.#json(res, 500, { error: 'server_error', error_description: 'mock server failure' });
        } catch {
          res.destroy();
        }
      });
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: LogEntry = { time: new Date(this.#clock.now()), method: req.method ?? '', path: (req.url ?? '/').split('?')[0] ?? '/' };
    this.#log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));

    switch (entry.path) {
      case '/.well-known/oauth-authorization-server':
      case '/.well-known/openid-configuration':
        if (req.method !== 'GET') return this.#methodNotAllowed(res, 'GET');
        return this.#json(res, 200, this.#metadata());
      case '/.well-known/jwks.json':
        if (req.method !== 'GET') return this.#methodNotAllowed(res, 'GET');
        return this.#json(res, 200, this.jwks);
      case '/oauth2/token':
        return this.#token(req, res, entry);
      default:
        return this.#json(res, 404, { error: 'not_found', error_description: `no endpoint at ${entry.path}` });
    }
  }

  async #token(req: IncomingMessage, res: ServerResponse, entry: LogEntry): Promise<void> {
    this.#tokenRequests++;
    const fault = this.#faults.shift();
    const form = await readForm(req);
    // A queued fault wins over a malformed request: the test asked for exactly that answer.
    if (form instanceof OAuthFailure && fault === undefined) return this.#oauthError(res, form);
    const body = form instanceof OAuthFailure ? new URLSearchParams() : form;
    const logged = { grantType: body.get('grant_type'), scope: body.get('scope'), audience: body.get('audience'), resource: body.getAll('resource').join(' ') };
    for (const [name, value] of Object.entries(logged)) if (value) entry[name as keyof typeof logged] = value;
    if (fault !== undefined) {
      entry.fault = fault.type;
      if (fault.type !== 'delay') return this.#answerWithFault(res, fault);
      await this.#delay(fault.ms);
      if (res.destroyed) return;
    }
    if (req.method !== 'POST') return this.#methodNotAllowed(res, 'POST');
    try {
      const answer = await this.#grant(req, body, entry);
      this.#json(res, 200, answer, { 'cache-control': 'no-store', pragma: 'no-cache' });
    } catch (err) {
      if (err instanceof OAuthFailure) return this.#oauthError(res, err);
      throw err;
    }
  }

  async #grant(req: IncomingMessage, body: URLSearchParams, entry: LogEntry): Promise<Record<string, unknown>> {
    const grantType = body.get('grant_type');
    if (grantType === 'client_credentials') {
      const client = await this.#authenticateClient(req, body, entry);
      return this.#issue(client.clientId, grantedScopes(body.get('scope'), client.allowedScopes), body);
    }
    if (grantType === jwtBearerGrant) {
      entry.authMethod = 'none';
      const { account, scope } = await this.#verifyBearerAssertion(body, entry);
      return this.#issue(account.clientEmail, grantedScopes(scope, account.allowedScopes), body);
    }
    if (grantType === null) throw new OAuthFailure(400, 'invalid_request', 'grant_type is missing');
    throw new OAuthFailure(400, 'unsupported_grant_type', 'this server supports client_credentials and jwt-bearer');
  }

  /** RFC 6749 §2.3: exactly one client authentication method per request. */
  async #authenticateClient(req: IncomingMessage, body: URLSearchParams, entry: LogEntry): Promise<RegisteredClient> {
    const basic = parseBasic(req.headers.authorization);
    const usesAssertion = body.has('client_assertion') || body.has('client_assertion_type');
    const usesPostSecret = body.has('client_secret');
    if ([basic !== undefined, usesAssertion, usesPostSecret].filter(Boolean).length > 1) {
      throw new OAuthFailure(400, 'invalid_request', 'use exactly one client authentication method', basic !== undefined);
    }
    let client: RegisteredClient;
    if (basic !== undefined) {
      entry.authMethod = 'client_secret_basic';
      if (basic === 'malformed') throw new OAuthFailure(401, 'invalid_client', 'malformed Basic credentials', true);
      entry.clientId = basic.id;
      client = this.#checkSecret(basic.id, basic.secret, 'client_secret_basic');
    } else if (usesAssertion) {
      entry.authMethod = 'private_key_jwt';
      client = await this.#verifyClientAssertion(body, entry);
    } else if (usesPostSecret) {
      entry.authMethod = 'client_secret_post';
      const id = body.get('client_id');
      if (id !== null) entry.clientId = id;
      client = this.#checkSecret(id ?? undefined, body.get('client_secret') ?? '', 'client_secret_post');
    } else {
      if (body.has('client_id')) entry.clientId = body.get('client_id')!;
      throw new OAuthFailure(401, 'invalid_client', 'client authentication is missing');
    }
    const claimedId = body.get('client_id');
    if (claimedId !== null && claimedId !== client.clientId) {
      throw new OAuthFailure(401, 'invalid_client', 'client_id does not match the authenticated client', basic !== undefined);
    }
    return client;
  }

  #checkSecret(id: string | undefined, secret: string, method: MockClientAuthMethod): RegisteredClient {
    const client = id === undefined ? undefined : this.#clients.get(id);
    if (client?.clientSecret === undefined || client.clientSecret !== secret || !client.authMethods.includes(method)) {
      throw new OAuthFailure(401, 'invalid_client', 'client authentication failed', method === 'client_secret_basic');
    }
    return client;
  }

  async #verifyClientAssertion(body: URLSearchParams, entry: LogEntry): Promise<RegisteredClient> {
    const assertion = body.get('client_assertion') ?? '';
    if (body.get('client_assertion_type') !== clientAssertionType) {
      throw new OAuthFailure(401, 'invalid_client', `client_assertion_type must be ${clientAssertionType}`);
    }
    // The key to verify with is picked by the claimed client; the signature then proves the claim.
    const claimedId = body.get('client_id') ?? unverifiedClaims(assertion)?.iss;
    if (claimedId !== undefined) entry.clientId = claimedId;
    const client = claimedId === undefined ? undefined : this.#clients.get(claimedId);
    if (client?.verifyKey === undefined || !client.authMethods.includes('private_key_jwt')) {
      throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
    }
    let jti: string;
    try {
      const { payload } = await jwtVerify(assertion, client.verifyKey, {
        issuer: client.clientId,
        subject: client.clientId,
        audience: [this.issuer, this.tokenEndpoint],
        algorithms: client.verifyAlgorithms ?? assertionAlgorithms,
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['exp', 'jti'],
      });
      jti = `${client.clientId} ${String(payload.jti)}`;
    } catch {
      throw new OAuthFailure(401, 'invalid_client', 'client assertion is invalid');
    }
    // RFC 7523 §3: the server may refuse a replayed assertion; a test of replay protection wants it to.
    if (this.#usedAssertionIds.has(jti)) throw new OAuthFailure(401, 'invalid_client', 'client assertion was already used');
    this.#usedAssertionIds.add(jti);
    return client;
  }

  async #verifyBearerAssertion(body: URLSearchParams, entry: LogEntry): Promise<{ account: RegisteredAccount; scope: string | null }> {
    const assertion = body.get('assertion') ?? '';
    const claimedEmail = unverifiedClaims(assertion)?.iss;
    if (claimedEmail !== undefined) entry.clientId = claimedEmail;
    const account = claimedEmail === undefined ? undefined : this.#accounts.get(claimedEmail);
    if (account === undefined) throw new OAuthFailure(400, 'invalid_grant', 'unknown service account');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, account.verifyKey, {
        issuer: account.clientEmail,
        audience: [this.tokenEndpoint, this.issuer],
        algorithms: account.verifyAlgorithms ?? assertionAlgorithms,
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: maxAssertionLifetimeSec,
      }));
    } catch {
      throw new OAuthFailure(400, 'invalid_grant', 'assertion is invalid');
    }
    if (payload.exp! - payload.iat! > maxAssertionLifetimeSec) {
      throw new OAuthFailure(400, 'invalid_grant', `assertion lives longer than ${maxAssertionLifetimeSec} s`);
    }
    const scope = typeof payload.scope === 'string' ? payload.scope : body.get('scope');
    if (scope) entry.scope = scope;
    return { account, scope };
  }

  async #issue(subject: string, scopes: readonly string[], body: URLSearchParams): Promise<Record<string, unknown>> {
    const nowSec = Math.floor(this.#clock.now() / 1000);
    const resources = body.getAll('resource');
    // RFC 8707: several resources make an audience of several.
    const audience = resources.length > 1 ? resources : (resources[0] ?? body.get('audience') ?? this.#audience);
    const scope = scopes.join(' ');
    const accessToken = await new SignJWT({ scope, client_id: subject })
      .setProtectedHeader({ alg: this.#publicJwk.alg!, kid: this.#publicJwk.kid!, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + this.tokenLifetimeSec)
      .setJti(randomUUID())
      .sign(this.#signingKey);
    this.#issuedTokens++;
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      ...(this.omitExpiresIn ? {} : { expires_in: this.tokenLifetimeSec }),
      ...(scope ? { scope } : {}),
    };
  }

  #answerWithFault(res: ServerResponse, fault: Exclude<TokenServerFault, { type: 'delay' }>): void {
    switch (fault.type) {
      case 'error': {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
        if (fault.wwwAuthenticate ?? fault.status === 401) {
          headers['www-authenticate'] = `Basic realm="mock"${fault.error ? `, error="${fault.error}"` : ''}`;
        }
        if (fault.error === undefined) {
          res.writeHead(fault.status, { ...headers, 'content-type': 'text/plain', date: this.#date() });
          res.end(`HTTP ${fault.status}`);
          return;
        }
        const error = { error: fault.error, ...(fault.errorDescription ? { error_description: fault.errorDescription } : {}) };
        return this.#json(res, fault.status, error, headers);
      }
      case 'hang':
        return;
      case 'hang-after-headers':
        res.writeHead(200, { 'content-type': 'application/json', date: this.#date() });
        res.flushHeaders();
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'reset-mid-body':
        // The promised length makes the cut visible to the client as an incomplete body.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200', date: this.#date() });
        res.write('{"access_token":"eyJ', () => res.socket?.destroy());
        return;
      case 'body':
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json', date: this.#date(), ...fault.headers });
        res.end(fault.body);
        return;
      case 'html':
        res.writeHead(fault.status ?? 502, { 'content-type': 'text/html; charset=utf-8', date: this.#date() });
        res.end('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
        return;
    }
  }

  /** RFC 8414 metadata; also served as OpenID discovery, which OAuth clients read the same way. */
  #metadata(): Record<string, unknown> {
    const scopes = new Set<string>();
    for (const { allowedScopes } of [...this.#clients.values(), ...this.#accounts.values()]) {
      for (const scope of allowedScopes ?? []) scopes.add(scope);
    }
    return {
      issuer: this.issuer,
      token_endpoint: this.tokenEndpoint,
      jwks_uri: this.jwksUri,
      grant_types_supported: ['client_credentials', jwtBearerGrant],
      token_endpoint_auth_methods_supported: [...authMethodsSupported],
      token_endpoint_auth_signing_alg_values_supported: assertionAlgorithms,
      ...(scopes.size > 0 ? { scopes_supported: [...scopes] } : {}),
    };
  }

  #oauthError(res: ServerResponse, failure: OAuthFailure): void {
    const headers: Record<string, string> = failure.basicChallenge ? { 'www-authenticate': `Basic realm="mock", error="${failure.error}"` } : {};
    this.#json(res, failure.status, { error: failure.error, error_description: failure.description }, headers);
  }

  #methodNotAllowed(res: ServerResponse, allow: string): void {
    this.#json(res, 405, { error: 'invalid_request', error_description: `use ${allow}` }, { allow });
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', date: this.#date(), ...headers });
    res.end(JSON.stringify(body));
  }

  #date(): string {
    return new Date(this.#clock.now()).toUTCString();
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#delays.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.#delays.set(timer, resolve);
    });
  }
}

/** The form body, or the OAuth failure to answer with. Reads the whole body even when too large, so the answer reaches the client. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams | OAuthFailure> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxRequestBytes) chunks.push(chunk);
    }
  } catch {
    return new OAuthFailure(400, 'invalid_request', 'request body could not be read');
  }
  if (size > maxRequestBytes) return new OAuthFailure(413, 'invalid_request', `request body is larger than ${maxRequestBytes} bytes`);
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (size > 0 && type !== 'application/x-www-form-urlencoded') {
    return new OAuthFailure(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** `Authorization: Basic` credentials: `undefined` when the header is absent or another scheme. */
function parseBasic(header: string | undefined): { id: string; secret: string } | 'malformed' | undefined {
  const match = header === undefined ? null : /^basic\s+(\S*)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    // RFC 6749 §2.3.1: id and secret are each form-urlencoded before joining with ':'.
    const formDecode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

/** A JWT's claims before verification, only to pick the key that verifies it. */
function unverifiedClaims(jwt: string): JWTPayload | undefined {
  try {
    return decodeJwt(jwt);
  } catch {
    return undefined;
  }
}

/** The scopes to grant: those asked for, or all allowed ones; `invalid_scope` for any not allowed. */
function grantedScopes(requested: string | null, allowed: readonly string[] | undefined): readonly string[] {
  const asked = requested?.split(' ').filter(Boolean) ?? [];
  if (asked.length === 0) return allowed ?? [];
  const refused = allowed === undefined ? [] : asked.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0) throw new OAuthFailure(400, 'invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  return [...new Set(asked)];
}

/**
 * The public key that verifies a client's or account's assertions, read synchronously so a bad key
 * fails at `addClient` rather than at the first request. A JWK's `alg` pins the algorithm.
 */
function verifierOf(key: JWK | CryptoKey | string): { verifyKey: KeyObject; verifyAlgorithms?: string[] } {
  let keyObject: KeyObject;
  try {
    if (typeof key === 'string') keyObject = createPublicKey(key);
    else if ('kty' in key) keyObject = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    else keyObject = KeyObject.from(key as webcrypto.CryptoKey);
  } catch (err) {
    throw new TypeError('MockTokenServer: publicKey is not a readable JWK, PEM or CryptoKey', { cause: err });
  }
  if (keyObject.type === 'secret') throw new TypeError('MockTokenServer: publicKey must be an asymmetric key, not a secret');
  const verifyKey = keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject;
  const alg = typeof key === 'object' && 'kty' in key ? key.alg : undefined;
  return { verifyKey, ...(alg ? { verifyAlgorithms: [alg] } : {}) };
}
