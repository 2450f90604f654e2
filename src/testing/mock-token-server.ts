import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  SignJWT,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Largest request body read, in bytes. */
const maxRequestBytes = 64 * 1024;

/** Client authentication methods the mock server accepts. */
export type MockClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Options of {@link MockTokenServer.start}. */
export interface MockTokenServerOptions {
  /** Lifetime of issued tokens, in seconds. Default 3600. Settable later as `server.tokenLifetimeSec`. */
  tokenLifetimeSec?: number;
  /** Leave `expires_in` out of token answers (the JWT still has `exp`). Default false. */
  omitExpiresIn?: boolean;
  /** Where the server reads time for `iat`, `exp` and the `Date` header. Default `Date.now`. */
  clock?: { now(): number };
  /** `aud` of tokens when the request names no `audience` or `resource`. Default `'https://api.example.test'`. */
  audience?: string;
  /** Algorithm of the token signing key. Default `'RS256'`. */
  signingAlg?: 'RS256' | 'ES256';
}

/** A registered client. Without `allowedScopes`, any scope is granted. */
export interface MockClient {
  readonly clientId: string;
  /** Secret for `client_secret_basic` / `client_secret_post`. */
  readonly clientSecret?: string;
  /** Public key (JWK, PEM SPKI or CryptoKey) that verifies this client's `private_key_jwt` assertions. */
  readonly publicKey?: JWK | CryptoKey | string;
  readonly allowedScopes?: readonly string[];
  /** Methods this client may use. Default: those its credentials allow. */
  readonly authMethods?: readonly MockClientAuthMethod[];
}

/** A service account that may use the JWT-bearer grant (RFC 7523), as with a Google-format key. */
export interface MockServiceAccount {
  readonly clientEmail: string;
  /** Public key (JWK or PEM SPKI) matching the key file's private key. */
  readonly publicKey: JWK | CryptoKey | string;
  readonly allowedScopes?: readonly string[];
}

/** What the next token requests get instead of a normal answer; see {@link MockTokenServer.failNext}. */
export type TokenServerFault =
  /** That HTTP status with an OAuth error body (when `error` is set) and optional `Retry-After`. */
  | {
      readonly type: 'error';
      readonly status: number;
      readonly error?: string;
      readonly errorDescription?: string;
      readonly retryAfter?: string | number;
      /** Send `WWW-Authenticate` (default: when the status is 401). */
      readonly wwwAuthenticate?: boolean;
    }
  /** The normal answer, `ms` milliseconds late. */
  | { readonly type: 'delay'; readonly ms: number }
  /** Never answer (until `close()`). */
  | { readonly type: 'hang' }
  /** Send 200 headers, then nothing (slow loris). */
  | { readonly type: 'hang-after-headers' }
  /** Drop the connection without an answer. */
  | { readonly type: 'reset' }
  /** Send headers and part of a JSON body, then drop the connection. */
  | { readonly type: 'reset-mid-body' }
  /** This raw answer (malformed JSON, wrong types, huge bodies...). */
  | {
      readonly type: 'body';
      readonly status?: number;
      readonly contentType?: string;
      readonly body: string | Buffer;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** An HTML error page, as a proxy in front of a broken server sends. */
  | { readonly type: 'html'; readonly status?: number };

/** One request as the server saw it, with every secret left out. */
export interface MockRequestLogEntry {
  readonly time: Date;
  readonly method: string;
  readonly path: string;
  readonly grantType?: string;
  readonly clientId?: string;
  readonly authMethod?: MockClientAuthMethod | 'none';
  readonly scope?: string;
  readonly audience?: string;
  readonly resource?: string;
  readonly status?: number;
  /** The injected fault's type, if one answered. */
  readonly fault?: TokenServerFault['type'];
}

interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly verifyKey?: CryptoKey;
  readonly allowedScopes?: readonly string[];
  readonly authMethods: readonly MockClientAuthMethod[];
}

interface RegisteredAccount {
  readonly clientEmail: string;
  readonly verifyKey: CryptoKey;
  readonly allowedScopes?: readonly string[];
}

/** An OAuth error answer, thrown inside request handling. */
class OAuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
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
 * for the next requests, and every request is logged with its secrets left out.
 *
 * @example
 * ```ts
 * import { after, test } from 'node:test';
 * import { TokenManager } from 'grpc-oauth2-credentials';
 * import { MockTokenServer } from 'grpc-oauth2-credentials/testing';
 *
 * test('my service gets a token', async () => {
 *   const server = await MockTokenServer.start();
 *   after(() => server.close());
 *   server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret', allowedScopes: ['orders.read'] });
 *   const tokens = new TokenManager({
 *     issuer: server.issuer,
 *     clientId: 'orders-svc',
 *     clientSecret: 'test-secret',
 *     scopes: ['orders.read'],
 *     allowInsecureRequests: true, // the mock speaks http on loopback
 *   });
 *   after(() => tokens.close());
 *   const token = await tokens.getToken();
 *   const claims = await server.verifyAccessToken(token.accessToken);
 *   // claims.sub === 'orders-svc', claims.scope === 'orders.read'
 *
 *   server.failNext(1, { type: 'error', status: 503, retryAfter: 1 }); // the next token request fails
 * });
 * ```
 */
export class MockTokenServer {
  /** `http://127.0.0.1:<port>`. */
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
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #clock: { now(): number };
  readonly #audience: string;
  readonly #signingKey: CryptoKey;
  readonly #publicJwk: JWK;
  readonly #clients = new Map<string, RegisteredClient>();
  readonly #accounts = new Map<string, RegisteredAccount>();
  readonly #pendingRegistrations: Promise<void>[] = [];
  readonly #faults: TokenServerFault[] = [];
  readonly #usedAssertionIds = new Set<string>();
  readonly #log: MockRequestLogEntry[] = [];
  #tokenRequests = 0;
  #issuedTokens = 0;
  #closed: Promise<void> | undefined;

  private constructor(server: Server, port: number, options: MockTokenServerOptions, signingKey: CryptoKey, publicJwk: JWK) {
    this.#server = server;
    this.issuer = `http://127.0.0.1:${port}`;
    this.tokenEndpoint = `${this.issuer}/oauth2/token`;
    this.jwksUri = `${this.issuer}/.well-known/jwks.json`;
    this.tokenLifetimeSec = options.tokenLifetimeSec ?? 3600;
    this.omitExpiresIn = options.omitExpiresIn ?? false;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#audience = options.audience ?? 'https://api.example.test';
    this.#signingKey = signingKey;
    this.#publicJwk = publicJwk;
  }

  /** Starts a server on 127.0.0.1 on a free port. */
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
    const mock = new MockTokenServer(server, (server.address() as AddressInfo).port, options, privateKey, publicJwk);
    mock.#attach();
    return mock;
  }

  /** Registers (or replaces) a client of the client-credentials grant. */
  addClient(client: MockClient): void {
    const methods: MockClientAuthMethod[] = [];
    if (client.clientSecret !== undefined) methods.push('client_secret_basic', 'client_secret_post');
    if (client.publicKey !== undefined) methods.push('private_key_jwt');
    const base = {
      clientId: client.clientId,
      ...(client.clientSecret !== undefined ? { clientSecret: client.clientSecret } : {}),
      ...(client.allowedScopes ? { allowedScopes: [...client.allowedScopes] } : {}),
      authMethods: client.authMethods ? [...client.authMethods] : methods,
    };
    if (client.publicKey === undefined) {
      this.#clients.set(client.clientId, base);
      return;
    }
    this.#register(importVerifyKey(client.publicKey).then((verifyKey) => void this.#clients.set(client.clientId, { ...base, verifyKey })));
  }

  /** Registers a service account for the JWT-bearer grant. */
  addServiceAccount(account: MockServiceAccount): void {
    this.#register(
      importVerifyKey(account.publicKey).then((verifyKey) => {
        this.#accounts.set(account.clientEmail, {
          clientEmail: account.clientEmail,
          verifyKey,
          ...(account.allowedScopes ? { allowedScopes: [...account.allowedScopes] } : {}),
        });
      }),
    );
  }

  /**
   * The next `count` token requests get `fault` instead of a normal answer; then service is normal
   * again. Faults queue up in the order they were added.
   */
  failNext(count: number, fault: TokenServerFault): void {
    for (let i = 0; i < count; i++) this.#faults.push(fault);
  }

  /** Drops every fault still queued. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Requests to the token endpoint so far, faulted ones included. */
  get tokenRequestCount(): number {
    return this.#tokenRequests;
  }

  /** Access tokens issued so far. */
  get issuedTokenCount(): number {
    return this.#issuedTokens;
  }

  /** Every request so far, without secrets, assertions or tokens. */
  get requests(): readonly MockRequestLogEntry[] {
    return this.#log;
  }

  /** The public signing keys, as the JWKS endpoint serves them. */
  get jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.#publicJwk }] };
  }

  /** Verifies an access token this server issued and returns its claims. */
  async verifyAccessToken(token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks), {
      issuer: this.issuer,
      currentDate: new Date(this.#clock.now()),
    });
    return payload;
  }

  /** Stops the server and drops every open connection, hanging ones included. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }

  #register(pending: Promise<void>): void {
    // Handled at once so a bad key never becomes an unhandled rejection; surfaced on the next request.
    pending.catch(() => undefined);
    this.#pendingRegistrations.push(pending);
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
      res.on('error', () => undefined);
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) this.#json(res, 500, { error: 'server_error', error_description: 'mock server failure' });
        else res.destroy();
      });
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.issuer).pathname;
    const entry: { -readonly [K in keyof MockRequestLogEntry]: MockRequestLogEntry[K] } = {
      time: new Date(this.#clock.now()),
      method: req.method ?? '',
      path,
    };
    this.#log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));

    if (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') {
      if (req.method !== 'GET') return this.#json(res, 405, { error: 'invalid_request' });
      return this.#json(res, 200, this.#metadata());
    }
    if (path === '/.well-known/jwks.json') {
      if (req.method !== 'GET') return this.#json(res, 405, { error: 'invalid_request' });
      return this.#json(res, 200, this.jwks);
    }
    if (path !== '/oauth2/token') return this.#json(res, 404, { error: 'not_found' });

    this.#tokenRequests++;
    const fault = this.#faults.shift();
    let body: URLSearchParams;
    try {
      body = await this.#readForm(req);
    } catch (err) {
      if (!(err instanceof OAuthFailure)) throw err;
      // A queued fault wins over a malformed request: the test asked for exactly that answer.
      if (fault === undefined) return this.#oauthError(res, err);
      body = new URLSearchParams();
    }
    entry.grantType = body.get('grant_type') ?? undefined;
    entry.scope = body.get('scope') ?? undefined;
    entry.audience = body.get('audience') ?? undefined;
    entry.resource = body.get('resource') ?? undefined;
    if (fault !== undefined) {
      entry.fault = fault.type;
      if (fault.type !== 'delay') return this.#answerWithFault(res, fault);
      await this.#wait(fault.ms);
      if (res.destroyed) return;
    }
    if (req.method !== 'POST') return this.#json(res, 405, { error: 'invalid_request', error_description: 'use POST' });
    try {
      await Promise.all(this.#pendingRegistrations);
      const answer = await this.#grant(req, body, entry);
      this.#json(res, 200, answer, { 'cache-control': 'no-store', pragma: 'no-cache' });
    } catch (err) {
      if (err instanceof OAuthFailure) return this.#oauthError(res, err);
      throw err;
    }
  }

  async #grant(req: IncomingMessage, body: URLSearchParams, entry: { clientId?: string; authMethod?: MockClientAuthMethod | 'none'; scope?: string }) {
    const grantType = body.get('grant_type');
    if (grantType === 'client_credentials') {
      const client = await this.#authenticateClient(req, body, entry);
      const scopes = grantedScopes(body.get('scope'), client.allowedScopes);
      return this.#issue(client.clientId, scopes, body);
    }
    if (grantType === jwtBearerGrant) {
      entry.authMethod = 'none';
      const { account, scope } = await this.#verifyBearerAssertion(body);
      entry.clientId = account.clientEmail;
      const scopes = grantedScopes(scope ?? body.get('scope'), account.allowedScopes);
      if (scope !== undefined) entry.scope = scope;
      return this.#issue(account.clientEmail, scopes, body);
    }
    if (grantType === null) throw new OAuthFailure(400, 'invalid_request', 'grant_type is missing');
    throw new OAuthFailure(400, 'unsupported_grant_type', 'this server supports client_credentials and jwt-bearer');
  }

  async #authenticateClient(
    req: IncomingMessage,
    body: URLSearchParams,
    entry: { clientId?: string; authMethod?: MockClientAuthMethod | 'none' },
  ): Promise<RegisteredClient> {
    const header = req.headers.authorization;
    if (header !== undefined && /^basic /i.test(header)) {
      entry.authMethod = 'client_secret_basic';
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthFailure(401, 'invalid_client', 'malformed Basic credentials', true);
      let id: string;
      let secret: string;
      try {
        // RFC 6749 §2.3.1: both parts are form-urlencoded before joining.
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw new OAuthFailure(401, 'invalid_client', 'malformed Basic credentials', true);
      }
      entry.clientId = id;
      return this.#checkSecret(id, secret, 'client_secret_basic', true);
    }
    if (body.get('client_assertion_type') === clientAssertionType) {
      entry.authMethod = 'private_key_jwt';
      return this.#verifyClientAssertion(body, entry);
    }
    const id = body.get('client_id');
    const secret = body.get('client_secret');
    if (id !== null && secret !== null) {
      entry.authMethod = 'client_secret_post';
      entry.clientId = id;
      return this.#checkSecret(id, secret, 'client_secret_post', false);
    }
    throw new OAuthFailure(401, 'invalid_client', 'client authentication is missing');
  }

  #checkSecret(id: string, secret: string, method: MockClientAuthMethod, basic: boolean): RegisteredClient {
    const client = this.#clients.get(id);
    if (client?.clientSecret === undefined || client.clientSecret !== secret || !client.authMethods.includes(method)) {
      throw new OAuthFailure(401, 'invalid_client', 'client authentication failed', basic);
    }
    return client;
  }

  async #verifyClientAssertion(body: URLSearchParams, entry: { clientId?: string }): Promise<RegisteredClient> {
    const assertion = body.get('client_assertion') ?? '';
    const claimedId = body.get('client_id') ?? unverifiedIssuer(assertion);
    if (claimedId !== undefined) entry.clientId = claimedId;
    const client = claimedId === undefined ? undefined : this.#clients.get(claimedId);
    if (client?.verifyKey === undefined || !client.authMethods.includes('private_key_jwt')) {
      throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
    }
    try {
      const { payload } = await jwtVerify(assertion, client.verifyKey, {
        issuer: client.clientId,
        subject: client.clientId,
        audience: [this.issuer, this.tokenEndpoint],
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['exp', 'jti'],
      });
      const jti = String(payload.jti);
      if (this.#usedAssertionIds.has(jti)) throw new Error('replayed assertion');
      this.#usedAssertionIds.add(jti);
    } catch {
      throw new OAuthFailure(401, 'invalid_client', 'client assertion is invalid');
    }
    return client;
  }

  async #verifyBearerAssertion(body: URLSearchParams): Promise<{ account: RegisteredAccount; scope?: string }> {
    const assertion = body.get('assertion') ?? '';
    const account = this.#accounts.get(unverifiedIssuer(assertion) ?? '');
    if (account === undefined) throw new OAuthFailure(400, 'invalid_grant', 'unknown service account');
    try {
      const { payload } = await jwtVerify(assertion, account.verifyKey, {
        issuer: account.clientEmail,
        audience: [this.tokenEndpoint, this.issuer],
        currentDate: new Date(this.#clock.now()),
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: 3900,
      });
      return { account, ...(typeof payload.scope === 'string' ? { scope: payload.scope } : {}) };
    } catch {
      throw new OAuthFailure(400, 'invalid_grant', 'assertion is invalid');
    }
  }

  async #issue(subject: string, scopes: readonly string[], body: URLSearchParams): Promise<Record<string, unknown>> {
    const nowSec = Math.floor(this.#clock.now() / 1000);
    const audience = body.get('resource') ?? body.get('audience') ?? this.#audience;
    const scope = scopes.join(' ');
    const accessToken = await new SignJWT({ scope, client_id: subject })
      .setProtectedHeader({ alg: this.#publicJwk.alg ?? 'RS256', kid: this.#publicJwk.kid ?? '', typ: 'at+jwt' })
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
        this.#json(res, fault.status, { error: fault.error, ...(fault.errorDescription ? { error_description: fault.errorDescription } : {}) }, headers);
        return;
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
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200', date: this.#date() });
        res.write('{"access_token":"eyJ', () => res.socket?.destroy());
        return;
      case 'body':
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json', date: this.#date(), ...fault.headers });
        res.end(fault.body);
        return;
      case 'html':
        res.writeHead(fault.status ?? 502, { 'content-type': 'text/html', date: this.#date() });
        res.end('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
        return;
    }
  }

  #metadata(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      token_endpoint: this.tokenEndpoint,
      jwks_uri: this.jwksUri,
      grant_types_supported: ['client_credentials', jwtBearerGrant],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256', 'ES384', 'ES512', 'PS256', 'EdDSA'],
      response_types_supported: ['token'],
    };
  }

  async #readForm(req: IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of req) {
      total += (chunk as Buffer).length;
      if (total > maxRequestBytes) throw new OAuthFailure(413, 'invalid_request', 'request body too large');
      chunks.push(chunk as Buffer);
    }
    const type = req.headers['content-type'] ?? '';
    if (total > 0 && !type.startsWith('application/x-www-form-urlencoded')) {
      throw new OAuthFailure(400, 'invalid_request', 'expected application/x-www-form-urlencoded');
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  #oauthError(res: ServerResponse, failure: OAuthFailure): void {
    const headers: Record<string, string> = failure.basicChallenge
      ? { 'www-authenticate': `Basic realm="mock", error="${failure.error}", error_description="${failure.description}"` }
      : {};
    this.#json(res, failure.status, { error: failure.error, error_description: failure.description }, headers);
  }

  #json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', date: this.#date(), ...headers });
    res.end(JSON.stringify(body));
  }

  #date(): string {
    return new Date(this.#clock.now()).toUTCString();
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.#timers.add(timer);
    });
  }
}

/** The scopes to grant: those asked for, or all allowed ones; `invalid_scope` for any not allowed. */
function grantedScopes(requested: string | null | undefined, allowed: readonly string[] | undefined): readonly string[] {
  const asked = requested?.trim() ? requested.trim().split(/\s+/) : undefined;
  if (asked === undefined) return allowed ?? [];
  const refused = allowed === undefined ? [] : asked.filter((s) => !allowed.includes(s));
  if (refused.length > 0) throw new OAuthFailure(400, 'invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  return asked;
}

/** The `iss` of a JWT before verification, only to pick the key that verifies it. */
function unverifiedIssuer(jwt: string): string | undefined {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}

async function importVerifyKey(key: JWK | CryptoKey | string): Promise<CryptoKey> {
  if (typeof key === 'string') {
    const alg = /BEGIN PUBLIC KEY/.test(key) ? await pemAlgorithm(key) : 'RS256';
    return importSPKI(key, alg);
  }
  if ('kty' in key) {
    const alg = key.alg ?? (key.kty === 'RSA' ? 'RS256' : key.kty === 'EC' ? ecAlg(key.crv) : 'EdDSA');
    const imported = await importJWK(key, alg);
    if (imported instanceof Uint8Array) throw new TypeError('a symmetric key cannot verify client assertions');
    return imported;
  }
  return key as CryptoKey;
}

async function pemAlgorithm(pem: string): Promise<string> {
  const { createPublicKey } = await import('node:crypto');
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType === 'ec') return ecAlg(key.asymmetricKeyDetails?.namedCurve);
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  return 'RS256';
}

function ecAlg(curve: string | undefined): string {
  if (curve === 'P-384' || curve === 'secp384r1') return 'ES384';
  if (curve === 'P-521' || curve === 'secp521r1') return 'ES512';
  return 'ES256';
}
