// Fixtures of the server tests: a key server whose JWKS the test controls (and that counts its
// requests), and a real TLS grpc-js server running the auth interceptor in front of the echo
// service, whose handlers record what getAuthClaims gave them.
import type { TestContext } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { TokenManager } from '../../src/index.js';
import { createTestCertificates, type MockTokenServer, type TestCertificates } from '../../src/testing/index.js';
import {
  createServerAuthInterceptor,
  getAuthClaims,
  type ServerAuthInterceptor,
  type ServerAuthOptions,
} from '../../src/server/index.js';
import { echoService, listenOnLoopback, methodPaths, type Reply, type Request } from '../helpers/grpc-fixture.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';

export const audience = 'https://orders.example.test';

/** A signing key with its public JWK. */
export interface SigningKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

/**
 * RS256 keys of key servers whose tests ended, for the next key server of this process (under a new
 * `kid`): an RSA key takes about 160 ms of CPU to make. Never held by two running key servers.
 */
const spareKeys: SigningKey[] = [];

async function keyServerKey(t: TestContext): Promise<SigningKey> {
  const spare = spareKeys.pop();
  const key = spare === undefined ? await newSigningKey() : { ...spare, jwk: { ...spare.jwk, kid: randomUUID() } };
  t.after(() => void spareKeys.push(key));
  return key;
}

export async function newSigningKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' } };
}

/** An issuer on 127.0.0.1 whose keys the test sets, with discovery documents. */
export interface KeyServer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** The keys served; replace or push to rotate. */
  served: JWK[];
  /** The key tokens are signed with by default (served from the start). */
  readonly key: SigningKey;
  /** HTTP status the JWKS endpoint answers with instead of 200, while set. */
  jwksStatus: number | undefined;
  /**
   * What each discovery document answers (a string body is sent as it is). Default: the RFC 8414
   * one `{ issuer, jwks_uri }` (under any issuer path), the OpenID Connect one 404.
   */
  documents: Record<DiscoveryDocument, { status: number; body: unknown }>;
  /**
   * Pads every JSON answer with a `padding` member of this many bytes, streamed in 1 MB chunks with
   * no Content-Length, as long as the client reads. Default 0.
   */
  paddingBytes: number;
  /** Padding bytes written so far (what the client took before it went away). */
  readonly paddingSent: number;
  /** Requests so far to the JWKS endpoint. */
  readonly jwksRequests: number;
  /** Signs `claims` over defaults (iss, aud, sub, scope, exp in an hour at `nowMs`). */
  sign(
    claims?: JWTPayload,
    options?: { key?: SigningKey; header?: Record<string, unknown>; nowMs?: number },
  ): Promise<string>;
}

/** The well-known discovery documents, by the name of their URL. */
export type DiscoveryDocument = 'oauth-authorization-server' | 'openid-configuration';

export async function startKeyServer(t: TestContext): Promise<KeyServer> {
  const key = await keyServerKey(t);
  let jwksRequests = 0;
  let paddingSent = 0;
  const http = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' });
      if (typeof body === 'string' || keyServer.paddingBytes === 0)
        return void res.end(typeof body === 'string' ? body : JSON.stringify(body));
      void sendPadded(JSON.stringify(body));
    };
    const sendPadded = async (json: string): Promise<void> => {
      res.write(`${json.slice(0, -1)},"padding":"`);
      const chunk = 'a'.repeat(1 << 20);
      for (let left = keyServer.paddingBytes; left > 0 && !res.destroyed; left -= chunk.length) {
        const piece = chunk.slice(0, left);
        paddingSent += piece.length;
        if (!res.write(piece))
          await new Promise<void>((resolve) => {
            const resume = (): void => {
              res.off('drain', resume).off('close', resume);
              resolve();
            };
            res.on('drain', resume).on('close', resume);
          });
      }
      res.end('"}');
    };
    if (req.url === '/.well-known/jwks.json') {
      jwksRequests++;
      return keyServer.jwksStatus === undefined
        ? send(200, { keys: keyServer.served })
        : send(keyServer.jwksStatus, {});
    }
    const document = req.url?.startsWith('/.well-known/oauth-authorization-server')
      ? keyServer.documents['oauth-authorization-server']
      : req.url?.endsWith('/.well-known/openid-configuration')
        ? keyServer.documents['openid-configuration']
        : undefined;
    if (document !== undefined) return send(document.status, document.body);
    send(404, {});
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  http.unref();
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const keyServer: KeyServer = {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    served: [key.jwk],
    key,
    jwksStatus: undefined,
    documents: {
      'oauth-authorization-server': { status: 200, body: { issuer, jwks_uri: `${issuer}/.well-known/jwks.json` } },
      'openid-configuration': { status: 404, body: {} },
    },
    paddingBytes: 0,
    get paddingSent() {
      return paddingSent;
    },
    get jwksRequests() {
      return jwksRequests;
    },
    async sign(claims = {}, { key: signWith = key, header = {}, nowMs = Date.now() } = {}) {
      const now = Math.floor(nowMs / 1000);
      return new SignJWT({
        iss: issuer,
        aud: audience,
        sub: 'orders-svc',
        scope: 'orders.read',
        iat: now,
        exp: now + 3600,
        ...claims,
      })
        .setProtectedHeader({ alg: signWith.jwk.alg!, kid: signWith.jwk.kid!, typ: 'at+jwt', ...header })
        .sign(signWith.privateKey);
    },
  };
  return keyServer;
}

/** The options most tests start the auth server with: trust `keys`, over http on loopback, the echo policy. */
export function trusting(keys: KeyServer): ServerAuthOptions {
  return { issuer: keys.issuer, audience, jwksUri: keys.jwksUri, allowInsecureRequests: true, methods: echoPolicy };
}

/** What one handler saw: its method, the claims getAuthClaims gave it, and where it looked. */
export interface HandlerSighting {
  readonly method: string;
  readonly where: 'entry' | 'data' | 'end';
  readonly subject: string | undefined;
}

export interface AuthServer {
  readonly address: string;
  /** The interceptor the server runs (for `ready()`). */
  readonly interceptor: ServerAuthInterceptor;
  /** Each handler's view of the claims, in order; empty when no handler ran. */
  readonly sightings: HandlerSighting[];
  /** The test CA's certificate (PEM), for clients other than grpc-js (Connect's gRPC transport). */
  readonly caCert: string;
  /** TLS channel credentials trusting the test CA. */
  channelCredentials(): grpc.ChannelCredentials;
  /** A client of this server (closed with the server), on `credentials` (default: plain TLS). */
  client(credentials?: grpc.ChannelCredentials, options?: grpc.ClientOptions): grpc.Client;
}

let certificates: ReturnType<typeof createTestCertificates> | undefined;

/**
 * Starts the echo service over TLS on 127.0.0.1:0 behind `createServerAuthInterceptor(options)`
 * (after `before`, interceptors that run ahead of it), plus a health Check method. Closed after `t`.
 */
export async function startAuthServer(
  t: TestContext,
  options: ServerAuthOptions,
  extra: {
    before?: grpc.ServerInterceptor[];
    serverOptions?: grpc.ServerOptions;
    /** Run by the Unary handler with what getAuthClaims gave it (what it throws fails the call). */
    onUnary?: (claims: Readonly<JWTPayload> | undefined) => void;
    /** Server credentials made from the test certificates (default: TLS without client certificates). */
    credentials?: (certs: TestCertificates) => grpc.ServerCredentials;
  } = {},
): Promise<AuthServer> {
  const certs = await (certificates ??= createTestCertificates());
  const sightings: HandlerSighting[] = [];
  const interceptor = createServerAuthInterceptor(options);
  const server = new grpc.Server({ ...extra.serverOptions, interceptors: [...(extra.before ?? []), interceptor] });
  const see = (method: string, where: HandlerSighting['where'], call: { metadata: grpc.Metadata }): string => {
    const subject = getAuthClaims(call)?.sub;
    sightings.push({ method, where, subject });
    return subject ?? '';
  };
  const reply = (method: string, text: string): Reply => ({ method, authorization: [], metadata: {}, text });
  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      extra.onUnary?.(getAuthClaims(call));
      callback(null, reply(methodPaths.unary, see(methodPaths.unary, 'entry', call)));
    },
    ClientStream(call: grpc.ServerReadableStream<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      see(methodPaths.clientStream, 'entry', call);
      call.on('data', () => see(methodPaths.clientStream, 'data', call));
      call.on('end', () => callback(null, reply(methodPaths.clientStream, see(methodPaths.clientStream, 'end', call))));
    },
    ServerStream(call: grpc.ServerWritableStream<Request, Reply>) {
      call.write(reply(methodPaths.serverStream, see(methodPaths.serverStream, 'entry', call)));
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<Request, Reply>) {
      see(methodPaths.bidi, 'entry', call);
      call.on('data', (request: Request) =>
        call.write(reply(methodPaths.bidi, `${see(methodPaths.bidi, 'data', call)}:${request.text}`)),
      );
      call.on('end', () => call.end());
    },
  } satisfies grpc.UntypedServiceImplementation);
  server.addService(healthService, {
    Check(call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      callback(null, reply(healthCheckPath, see(healthCheckPath, 'entry', call) || 'SERVING'));
    },
  } satisfies grpc.UntypedServiceImplementation);
  const port =
    extra.credentials === undefined
      ? await listenOnLoopback(server, certs)
      : await new Promise<number>((resolve, reject) =>
          server.bindAsync('127.0.0.1:0', extra.credentials!(certs), (err, bound) =>
            err ? reject(err) : resolve(bound),
          ),
        );
  const clients = new Set<grpc.Client>();
  t.after(() => {
    for (const client of clients) client.close();
    server.forceShutdown();
  });
  const address = `127.0.0.1:${port}`;
  const channelCredentials = (): grpc.ChannelCredentials => grpc.credentials.createSsl(certs.caCertBuffer);
  return {
    address,
    interceptor,
    sightings,
    caCert: certs.caCert,
    channelCredentials,
    client(credentials = channelCredentials(), options = {}) {
      const client = new grpc.Client(address, credentials, {
        'grpc.ssl_target_name_override': 'localhost',
        'grpc.default_authority': 'localhost',
        ...options,
      });
      clients.add(client);
      return client;
    },
  };
}

export const healthCheckPath = '/grpc.health.v1.Health/Check';
/** A stand-in for the gRPC health service's Check (JSON on the wire like the echo service). */
export const healthService = {
  Check: { ...echoService.Unary, path: healthCheckPath },
} satisfies grpc.ServiceDefinition;

/** The policy most tests use: each echo method needs orders.read, except ClientStream (orders.write). */
export const echoPolicy: ServerAuthOptions['methods'] = {
  [methodPaths.clientStream]: ['orders.write'],
  '/test.v1.Echo/*': ['orders.read'],
};

/** Metadata with one `authorization` value. */
export function bearer(token: string, scheme = 'Bearer'): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `${scheme} ${token}`);
  return metadata;
}

/** The `grpc-oauth2-reason` trailer of a failed call. */
export function reasonOf(error: grpc.ServiceError | undefined): string | undefined {
  const [value] = error?.metadata?.get('grpc-oauth2-reason') ?? [];
  return typeof value === 'string' ? value : undefined;
}

/** The SDK's client side against the real ./server: what {@link startClientScene} starts. */
export interface ClientScene {
  readonly tokenServer: MockTokenServer;
  /** A TokenManager on `tokenServer`, asking for `orders.read`. */
  readonly tokens: TokenManager;
  readonly auth: AuthServer;
}

/**
 * A MockTokenServer, a TokenManager on it (`orders.read`) and the auth server trusting that token
 * server: its issuer, its JWKS and the audience of its tokens, with every echo method needing
 * `orders.read`, unless `options` say otherwise. All closed after `t`.
 */
export async function startClientScene(
  t: TestContext,
  options: Partial<ServerAuthOptions> = {},
  extra: Parameters<typeof startAuthServer>[2] = {},
): Promise<ClientScene> {
  const tokenServer = await startTokenServer(t);
  const tokens = createManager(t, tokenServer, { scopes: ['orders.read'] });
  const auth = await startAuthServer(
    t,
    {
      issuer: tokenServer.issuer,
      audience: 'https://api.example.test',
      jwksUri: tokenServer.jwksUri,
      allowInsecureRequests: true,
      methods: { '/test.v1.Echo/*': ['orders.read'] },
      ...options,
    },
    extra,
  );
  return { tokenServer, tokens, auth };
}
