// A real Connect-ES test server (connect-node on http2.createSecureServer, or plaintext h2c) whose
// handlers report the `authorization` they received, and Connect / gRPC transports to reach it.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import type { TokenManager, TokenManagerOptions } from '../../src/index.js';
import { createTestCertificates, type MockTokenServer, type TestCertificates } from '../../src/testing/index.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';
import { EchoReplySchema, EchoService, type EchoReply } from './echo-service.js';

/** One request as it arrived on the wire, before Connect parsed it. */
export interface ReceivedRequest {
  /** The URL path, e.g. `/test.v1.Echo/Unary`. */
  readonly path: string;
  /** Every `authorization` header line of the request, as sent (a repeated header shows twice). */
  readonly authorization: readonly string[];
}

/** Decides, per call, whether the handler rejects it with `Unauthenticated` before any response. */
export type RejectPolicy = (authorization: string | null, path: string) => boolean;

export interface ConnectFixture {
  /** `https://127.0.0.1:<port>` (or `http://` for a plaintext server); the certificate names that IP. */
  readonly baseUrl: string;
  /** Every request the server saw, in order. */
  readonly received: ReceivedRequest[];
  rejectIf: RejectPolicy | undefined;
  readonly certificates: TestCertificates | undefined;
}

export const protocols = ['connect', 'grpc'] as const;
export type Protocol = (typeof protocols)[number];

let certificates: Promise<TestCertificates> | undefined;

/** The test CA and server certificate, made once per test file. */
export function testCertificates(): Promise<TestCertificates> {
  return (certificates ??= createTestCertificates());
}

/**
 * Starts the Echo service on 127.0.0.1:0 over TLS (HTTP/2), or plaintext HTTP/2 with `tls: false`;
 * closed (every session destroyed) when test `t` ends.
 */
export async function startConnectServer(
  t: TestContext,
  { tls = true }: { tls?: boolean } = {},
): Promise<ConnectFixture> {
  const certs = tls ? await testCertificates() : undefined;
  const received: ReceivedRequest[] = [];
  const fixture: ConnectFixture = { baseUrl: '', received, rejectIf: undefined, certificates: certs };
  const reply = (method: string, authorization: string | null, text: string): EchoReply =>
    create(EchoReplySchema, { method, authorization: authorization === null ? [] : [authorization], text });
  const admit = (path: string, header: Headers): string | null => {
    const authorization = header.get('authorization');
    if (fixture.rejectIf?.(authorization, path) === true)
      throw new ConnectError('test server rejected the token', Code.Unauthenticated);
    return authorization;
  };
  const adapter = connectNodeAdapter({
    routes(router) {
      router.service(EchoService, {
        unary(request, context) {
          return reply('/test.v1.Echo/Unary', admit('/test.v1.Echo/Unary', context.requestHeader), request.text);
        },
        async clientStream(requests, context) {
          const authorization = admit('/test.v1.Echo/ClientStream', context.requestHeader);
          let count = 0;
          for await (const _ of requests) count++;
          return reply('/test.v1.Echo/ClientStream', authorization, String(count));
        },
        // eslint-disable-next-line @typescript-eslint/require-await -- the client and server take async iterables
        async *serverStream(request, context) {
          const authorization = admit('/test.v1.Echo/ServerStream', context.requestHeader);
          yield reply('/test.v1.Echo/ServerStream', authorization, `${request.text}-1`);
          yield reply('/test.v1.Echo/ServerStream', authorization, `${request.text}-2`);
        },
        async *bidi(requests, context) {
          const authorization = admit('/test.v1.Echo/Bidi', context.requestHeader);
          for await (const request of requests) yield reply('/test.v1.Echo/Bidi', authorization, request.text);
        },
      });
    },
  });
  const onRequest = (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse): void => {
    const authorization: string[] = [];
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]?.toLowerCase() === 'authorization') authorization.push(request.rawHeaders[i + 1] ?? '');
    }
    received.push({ path: request.url, authorization });
    adapter(request, response);
  };
  const server = certs
    ? http2.createSecureServer({ cert: certs.serverCert, key: certs.serverKey }, onRequest)
    : http2.createServer(onRequest);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(fixture, { baseUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}` });
  t.after(async () => {
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return fixture;
}

/** A transport of `protocol` to `baseUrl` over HTTP/2, trusting the test CA (or `caCert`), with `interceptors`. */
export async function transportFor(
  protocol: Protocol,
  baseUrl: string,
  interceptors: Interceptor[],
  extra: { caCert?: string; jsonOptions?: { ignoreUnknownFields: boolean }; useBinaryFormat?: boolean } = {},
): Promise<Transport> {
  const { caCert = (await testCertificates()).caCert, ...formats } = extra;
  const options = { baseUrl, httpVersion: '2' as const, nodeOptions: { ca: caCert }, interceptors, ...formats };
  return protocol === 'connect' ? createConnectTransport(options) : createGrpcTransport(options);
}

export type EchoClient = Client<typeof EchoService>;

/** An Echo client over `protocol` with `interceptors`. */
export async function echoClient(
  protocol: Protocol,
  baseUrl: string,
  interceptors: Interceptor[],
): Promise<EchoClient> {
  return createClient(EchoService, await transportFor(protocol, baseUrl, interceptors));
}

/** How a call ended: the replies it got, and its error unless it succeeded. */
export interface CallResult {
  readonly replies: readonly EchoReply[];
  readonly error: ConnectError | undefined;
}

export interface CallArgs {
  readonly headers?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly text?: string;
}

async function settle(run: () => Promise<EchoReply[]>): Promise<CallResult> {
  try {
    return { replies: await run(), error: undefined };
  } catch (error) {
    return { replies: [], error: ConnectError.from(error) };
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- the client and server take async iterables
async function* requests(...texts: string[]): AsyncIterable<{ text: string }> {
  for (const text of texts) yield { text };
}

async function collect(responses: AsyncIterable<EchoReply>): Promise<EchoReply[]> {
  const replies: EchoReply[] = [];
  for await (const reply of responses) replies.push(reply);
  return replies;
}

/** The four call kinds, by name, each settling to a {@link CallResult}. */
export const callKinds = {
  unary: (client: EchoClient, args: CallArgs = {}) =>
    settle(async () => [await client.unary({ text: args.text ?? 'hello' }, args)]),
  clientStream: (client: EchoClient, args: CallArgs = {}) =>
    settle(async () => [await client.clientStream(requests('a', 'b'), args)]),
  serverStream: (client: EchoClient, args: CallArgs = {}) =>
    settle(() => collect(client.serverStream({ text: args.text ?? 'hello' }, args))),
  bidi: (client: EchoClient, args: CallArgs = {}) =>
    settle(() => collect(client.bidi(requests(args.text ?? 'hello'), args))),
} as const;
export type CallKind = keyof typeof callKinds;

/** A token server, a TokenManager on it, and the Connect test server: what a Connect test needs. */
export interface ConnectScene {
  readonly tokenServer: MockTokenServer;
  readonly tokens: TokenManager;
  readonly server: ConnectFixture;
}

/**
 * Starts a MockTokenServer (the test client may ask for `orders.read`, `orders.write`,
 * `inventory.read`), a TokenManager on it (`orders.read`, no retries, so failures show at once) and
 * the Connect test server; all closed when test `t` ends.
 */
export async function startConnectScene(
  t: TestContext,
  options: { tokens?: TokenManagerOptions; tls?: boolean } = {},
): Promise<ConnectScene> {
  const tokenServer = await startTokenServer(t);
  const tokens = createManager(t, tokenServer, { retry: { retries: 0 }, ...options.tokens });
  const server = await startConnectServer(t, { tls: options.tls ?? true });
  return { tokenServer, tokens, server };
}
