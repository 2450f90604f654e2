// A real connect-node server (node:http2 over TLS, HTTP/1.1 allowed) running createConnectServerAuthInterceptor in front
// of the Echo service, whose handlers record what getConnectAuthClaims gave them; plus a raw HTTP/2
// client that shows what went on the wire.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TestContext } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import type { HandlerContext, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { JWTPayload } from 'jose';
import {
  connectPeerContextValues,
  createConnectServerAuthInterceptor,
  getConnectAuthClaims,
  getConnectPeerIdentity,
  type AuthDecision,
  type ConnectServerAuthInterceptor,
  type ConnectServerAuthOptions,
} from '../../src/connect/index.js';
import type { MockTokenServer } from '../../src/testing/index.js';
import { startTokenServer } from '../helpers/token-fixtures.js';
import { audience, echoPolicy, startKeyServer, type KeyServer } from '../server/fixture.js';
import { testCertificates } from './connect-fixture.js';
import { EchoReplySchema, EchoRequestSchema, EchoService, type EchoReply } from './echo-service.js';

/** What one handler saw: its method, the claims getConnectAuthClaims gave it and the caller's certificate thumbprint. */
export interface Sighting {
  readonly method: string;
  readonly claims: Readonly<JWTPayload> | undefined;
  readonly peerSha256: string | undefined;
}

export interface AuthConnectServer {
  /** `https://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly interceptor: ConnectServerAuthInterceptor;
  /** Each handler's view of the claims, in order; empty when no handler ran. */
  readonly sightings: Sighting[];
  /** Every decision given to `onDecision`. */
  readonly decisions: AuthDecision[];
  /** The reasons with which a handler's `context.signal` aborted before the handler was done. */
  readonly abortReasons: unknown[];
}

/**
 * A request text that makes the ServerStream handler hold the stream open after its first reply,
 * until its signal aborts.
 */
export const holdOpen = 'hold';

/**
 * Starts the Echo service over TLS (HTTP/2, or HTTP/1.1 for a client that asks for it) on 127.0.0.1:0 behind `createConnectServerAuthInterceptor`
 * with `options` (its `onDecision` records into `decisions`), after the interceptors `before` (they run
 * ahead of it); closed after `t`. Each handler answers
 * with the verified `sub` (or `-` without claims) in its reply's `text`.
 */
export async function startAuthConnectServer(
  t: TestContext,
  options: ConnectServerAuthOptions,
  {
    before = [],
    mutualTls = false,
  }: {
    before?: Interceptor[];
    /** Ask TLS clients for a certificate (the test CA verifies it; none is accepted too) and read it with connectPeerContextValues. */
    mutualTls?: boolean;
  } = {},
): Promise<AuthConnectServer> {
  const certs = await testCertificates();
  const decisions: AuthDecision[] = [];
  const sightings: Sighting[] = [];
  const abortReasons: unknown[] = [];
  const interceptor = createConnectServerAuthInterceptor({
    ...options,
    onDecision: (decision) => {
      decisions.push(decision);
      options.onDecision?.(decision);
    },
  });
  const see = (method: string, context: HandlerContext): string => {
    const claims = getConnectAuthClaims(context);
    sightings.push({ method, claims, peerSha256: getConnectPeerIdentity(context)?.certificateSha256 });
    return typeof claims?.sub === 'string' ? claims.sub : '-';
  };
  const watch = (context: HandlerContext): (() => void) => {
    const record = (): number => abortReasons.push(context.signal.reason);
    context.signal.addEventListener('abort', record, { once: true });
    return () => context.signal.removeEventListener('abort', record);
  };
  const reply = (method: string, text: string): EchoReply => create(EchoReplySchema, { method, text });
  const adapter = connectNodeAdapter({
    interceptors: [...before, interceptor],
    ...(mutualTls ? { contextValues: (req) => connectPeerContextValues(req) } : {}),
    routes(router) {
      router.service(EchoService, {
        unary(request, context) {
          return reply('/test.v1.Echo/Unary', `${see('/test.v1.Echo/Unary', context)}:${request.text}`);
        },
        async clientStream(requests, context) {
          const done = watch(context);
          const who = see('/test.v1.Echo/ClientStream', context);
          let count = 0;
          for await (const _ of requests) count++;
          done();
          return reply('/test.v1.Echo/ClientStream', `${who}:${count}`);
        },
        async *serverStream(request, context) {
          const done = watch(context);
          const who = see('/test.v1.Echo/ServerStream', context);
          yield reply('/test.v1.Echo/ServerStream', `${who}:${request.text}-1`);
          if (request.text === holdOpen)
            await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
          done();
          yield reply('/test.v1.Echo/ServerStream', `${who}:${request.text}-2`);
        },
        async *bidi(requests, context) {
          const done = watch(context);
          const who = see('/test.v1.Echo/Bidi', context);
          for await (const request of requests) yield reply('/test.v1.Echo/Bidi', `${who}:${request.text}`);
          done();
        },
      });
    },
  });
  // HTTP/1.1 too (ALPN), as an Express or Fastify server would serve Connect.
  const clientCertificates = mutualTls ? { ca: certs.caCert, requestCert: true, rejectUnauthorized: false } : {};
  const server = http2.createSecureServer(
    { cert: certs.serverCert, key: certs.serverKey, allowHTTP1: true, ...clientCertificates },
    adapter,
  );
  const connections = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of connections) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `https://127.0.0.1:${port}`, interceptor, sightings, decisions, abortReasons };
}

/**
 * A MockTokenServer issuing tokens for `audience`, and the Connect auth server trusting it (its issuer
 * and JWKS over loopback http, the echo policy: ClientStream needs orders.write, the rest orders.read)
 * with `options` over that. Closed after `t`.
 */
export async function startTokenServerScene(
  t: TestContext,
  options: Partial<ConnectServerAuthOptions> = {},
): Promise<{ tokenServer: MockTokenServer; server: AuthConnectServer }> {
  const tokenServer = await startTokenServer(t, { audience });
  const { issuer, jwksUri } = tokenServer;
  const server = await startAuthConnectServer(t, trusting({ issuer, jwksUri }, options));
  return { tokenServer, server };
}

/** A key server whose tokens a test signs by hand, and the Connect auth server trusting it, as above. */
export async function startKeyServerScene(
  t: TestContext,
  options: Partial<ConnectServerAuthOptions> = {},
  extra: Parameters<typeof startAuthConnectServer>[2] = {},
): Promise<{ keys: KeyServer; server: AuthConnectServer }> {
  const keys = await startKeyServer(t);
  return { keys, server: await startAuthConnectServer(t, trusting(keys, options), extra) };
}

function trusting(
  { issuer, jwksUri }: { issuer: string; jwksUri: string },
  options: Partial<ConnectServerAuthOptions>,
): ConnectServerAuthOptions {
  return { issuer, audience, jwksUri, allowInsecureRequests: true, methods: echoPolicy, ...options };
}

/** What a raw HTTP/2 exchange got back: headers, trailers and body, as they came on the wire. */
export interface WireAnswer {
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The wire formats {@link rawCall} speaks. */
export type WireProtocol = 'grpc' | 'connect-unary' | 'connect-stream';

/**
 * Sends one binary Echo request to `path` on `baseUrl` with a plain `node:http2` client (no Connect
 * code between the test and the wire), with `headers`, and returns the answer as it came. `body`
 * replaces the request's body.
 */
export async function rawCall(
  t: TestContext,
  baseUrl: string,
  protocol: WireProtocol,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<WireAnswer> {
  const certs = await testCertificates();
  const session = http2.connect(baseUrl, { ca: certs.caCert });
  t.after(() => session.close());
  const message = Buffer.from(toBinary(EchoRequestSchema, create(EchoRequestSchema, { text: 'hi' })));
  const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
  const wire = {
    grpc: { 'content-type': 'application/grpc+proto', te: 'trailers', body: envelope },
    'connect-unary': { 'content-type': 'application/proto', 'connect-protocol-version': '1', body: message },
    'connect-stream': { 'content-type': 'application/connect+proto', 'connect-protocol-version': '1', body: envelope },
  }[protocol];
  const { body: encoded, ...typeHeaders } = wire;
  const stream = session.request({ ':method': 'POST', ':path': path, ...typeHeaders, ...headers });
  stream.end(body ?? encoded);
  return new Promise<WireAnswer>((resolve, reject) => {
    let answerHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (received: http2.IncomingHttpHeaders) => void (answerHeaders = received));
    stream.on('trailers', (received: http2.IncomingHttpHeaders) => void (trailers = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve({ headers: answerHeaders, trailers, body: Buffer.concat(chunks) }));
  });
}

/** A Connect end-of-stream message: the call's error, and its trailers as `metadata`. */
export interface ConnectEndStream {
  readonly error?: { readonly code: string; readonly message: string };
  readonly metadata?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The end-of-stream message of a Connect-protocol streaming answer (the envelope flagged 0x02):
 * its JSON, with the `metadata` that carries the trailers.
 */
export function connectEndStream(body: Buffer): ConnectEndStream {
  for (let offset = 0; offset + 5 <= body.length;) {
    const length = body.readUInt32BE(offset + 1);
    if ((body[offset]! & 0x02) !== 0)
      return JSON.parse(body.subarray(offset + 5, offset + 5 + length).toString('utf8')) as ConnectEndStream;
    offset += 5 + length;
  }
  throw new Error('no end-of-stream message in the answer');
}
