// A real grpc-js test service, defined without .proto files, whose handlers report the metadata they
// received. Listens on 127.0.0.1:0, over TLS (certificates from createTestCertificates) or plaintext.
import type { TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createTestCertificates } from '../../src/testing/index.js';
import { MockTokenServer, type MockTokenServerOptions } from '../../src/testing/index.js';
import type { TokenManagerOptions } from '../../src/index.js';
import { TokenManager } from '../../src/index.js';
import { clientId, clientSecret, managerOptions } from './token-fixtures.js';

/** What a handler sends back: the metadata it received, so tests can see what went on the wire. */
export interface Reply {
  readonly method: string;
  /** Every `authorization` value the server received (more than one never reaches a handler). */
  readonly authorization: readonly string[];
  /** All request metadata, as grpc-js's `Metadata.toJSON()` gives it. */
  readonly metadata: Readonly<Record<string, readonly unknown[]>>;
  /** Echo of the request's `text` (unary, server-streaming, bidi) or the message count (client-streaming). */
  readonly text: string;
}

/** Request message of every method. */
export interface Request {
  readonly text: string;
}

/** One call as the server saw it. */
export interface ReceivedCall {
  readonly method: string;
  readonly authorization: readonly string[];
  /** The request's `text` for unary and server-streaming calls (one request message); else undefined. */
  readonly text: string | undefined;
  /** All request metadata, as grpc-js's `Metadata.toJSON()` gives it. */
  readonly metadata: Readonly<Record<string, readonly unknown[]>>;
}

export const servicePath = '/test.v1.Echo';
export const methodPaths = {
  unary: `${servicePath}/Unary`,
  clientStream: `${servicePath}/ClientStream`,
  serverStream: `${servicePath}/ServerStream`,
  bidi: `${servicePath}/Bidi`,
} as const;

const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const deserializeRequest = (bytes: Buffer): Request => JSON.parse(bytes.toString('utf8')) as Request;
const deserializeReply = (bytes: Buffer): Reply => JSON.parse(bytes.toString('utf8')) as Reply;

function method(path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Request, Reply> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserializeRequest,
    responseSerialize: serialize,
    responseDeserialize: deserializeReply,
  };
}

/** The test service: all four call types, JSON on the wire. */
export const echoService = {
  Unary: method(methodPaths.unary, false, false),
  ClientStream: method(methodPaths.clientStream, true, false),
  ServerStream: method(methodPaths.serverStream, false, true),
  Bidi: method(methodPaths.bidi, true, true),
} satisfies grpc.ServiceDefinition;

/** Decides, per call, whether the server rejects it with `UNAUTHENTICATED` before any response. */
export type RejectPolicy = (authorization: string | undefined, method: string) => boolean;

export interface GrpcFixture {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  readonly tls: boolean;
  /** The test CA's certificate (PEM) when over TLS, for clients other than grpc-js. */
  readonly caCert: string | undefined;
  /** Every call the handlers saw, in order. */
  readonly received: ReceivedCall[];
  /** When set and it returns true, the handler ends the call `UNAUTHENTICATED` before any response. */
  rejectIf: RejectPolicy | undefined;
  /** Fresh channel credentials for this server: TLS trusting the test CA, or insecure. */
  channelCredentials(): grpc.ChannelCredentials;
  /** A client for this server, closed by `close()`. */
  client(channelCredentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): grpc.Client;
  /** Closes every client made by `client()` and shuts the server down. */
  close(): Promise<void>;
}

let certificates: ReturnType<typeof createTestCertificates> | undefined;

/** Starts the test service on 127.0.0.1:0, over TLS unless `tls: false`. */
export async function startGrpcFixture({ tls = true }: { tls?: boolean } = {}): Promise<GrpcFixture> {
  const certs = tls ? await (certificates ??= createTestCertificates()) : undefined;
  const received: ReceivedCall[] = [];
  const clients = new Set<grpc.Client>();
  const server = new grpc.Server();
  let address = '';

  const fixture: GrpcFixture = {
    get address() {
      return address;
    },
    tls,
    caCert: certs?.caCert,
    received,
    rejectIf: undefined,
    channelCredentials: () =>
      certs ? grpc.credentials.createSsl(certs.caCertBuffer) : grpc.credentials.createInsecure(),
    client(channelCredentials, options = {}) {
      // The certificate names localhost; connecting to 127.0.0.1 avoids ::1 and Node's warning
      // about an IP address as TLS server name.
      const client = new grpc.Client(address, channelCredentials, {
        ...(tls ? { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' } : {}),
        ...options,
      });
      clients.add(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      clients.clear();
      server.forceShutdown();
      await Promise.resolve();
    },
  };

  /** Logs the call and says whether to reject it. */
  const admit = (
    call: { metadata: grpc.Metadata; request?: Request },
    path: string,
  ): { authorization: string[]; rejected: boolean } => {
    const authorization = call.metadata.get('authorization').map(String);
    received.push({ method: path, authorization, text: call.request?.text, metadata: call.metadata.toJSON() });
    return { authorization, rejected: fixture.rejectIf?.(authorization[0], path) ?? false };
  };
  const reply = (path: string, authorization: string[], metadata: grpc.Metadata, text: string): Reply => ({
    method: path,
    authorization,
    metadata: metadata.toJSON(),
    text,
  });
  const rejection = { code: grpc.status.UNAUTHENTICATED, details: 'test server rejected the token' };

  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      const { authorization, rejected } = admit(call, methodPaths.unary);
      if (rejected) return callback(rejection);
      callback(null, reply(methodPaths.unary, authorization, call.metadata, call.request.text));
    },
    ClientStream(call: grpc.ServerReadableStream<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      const { authorization, rejected } = admit(call, methodPaths.clientStream);
      if (rejected) return callback(rejection);
      let count = 0;
      call.on('data', () => count++);
      call.on('end', () =>
        callback(null, reply(methodPaths.clientStream, authorization, call.metadata, String(count))),
      );
    },
    ServerStream(call: grpc.ServerWritableStream<Request, Reply>) {
      const { authorization, rejected } = admit(call, methodPaths.serverStream);
      if (rejected) return call.emit('error', rejection);
      call.write(reply(methodPaths.serverStream, authorization, call.metadata, `${call.request.text}-1`));
      call.write(reply(methodPaths.serverStream, authorization, call.metadata, `${call.request.text}-2`));
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<Request, Reply>) {
      const { authorization, rejected } = admit(call, methodPaths.bidi);
      if (rejected) return call.emit('error', rejection);
      call.on('data', (request: Request) =>
        call.write(reply(methodPaths.bidi, authorization, call.metadata, request.text)),
      );
      call.on('end', () => call.end());
    },
  } satisfies grpc.UntypedServiceImplementation);

  address = `127.0.0.1:${await listenOnLoopback(server, certs)}`;
  return fixture;
}

/**
 * Binds `server` to 127.0.0.1 on a free port, over TLS with the test certificates `certs` (plaintext
 * without them), and resolves with the port.
 */
export function listenOnLoopback(
  server: grpc.Server,
  certs?: { readonly serverKeyBuffer: Buffer; readonly serverCertBuffer: Buffer },
): Promise<number> {
  const credentials = certs
    ? grpc.ServerCredentials.createSsl(
        null,
        [{ private_key: certs.serverKeyBuffer, cert_chain: certs.serverCertBuffer }],
        false,
      )
    : grpc.ServerCredentials.createInsecure();
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/** How a test makes a call: metadata and call options, both optional. */
export interface CallArgs {
  readonly metadata?: grpc.Metadata;
  readonly options?: grpc.CallOptions;
  readonly text?: string;
}

/** How a call ended: the replies it got, and its error unless it succeeded. */
export interface CallResult {
  readonly replies: readonly Reply[];
  readonly error: grpc.ServiceError | undefined;
}

/** A unary call. */
export function unary(client: grpc.Client, args: CallArgs = {}): Promise<CallResult> {
  const m = echoService.Unary;
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      { text: args.text ?? 'hello' },
      args.metadata ?? new grpc.Metadata(),
      args.options ?? {},
      (error, value) => resolve({ replies: value ? [value] : [], error: error ?? undefined }),
    );
  });
}

/** A client-streaming call sending two messages. */
export function clientStream(client: grpc.Client, args: CallArgs = {}): Promise<CallResult> {
  const m = echoService.ClientStream;
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      args.metadata ?? new grpc.Metadata(),
      args.options ?? {},
      (error, value) => resolve({ replies: value ? [value] : [], error: error ?? undefined }),
    );
    call.write({ text: 'a' });
    call.write({ text: 'b' });
    call.end();
  });
}

/** A server-streaming call (the server sends two replies). */
export function serverStream(client: grpc.Client, args: CallArgs = {}): Promise<CallResult> {
  const m = echoService.ServerStream;
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      { text: args.text ?? 'hello' },
      args.metadata ?? new grpc.Metadata(),
      args.options ?? {},
    );
    collect(call, resolve);
  });
}

/** A bidi call sending one message, then half-closing. */
export function bidi(client: grpc.Client, args: CallArgs = {}): Promise<CallResult> {
  const call = openBidi(client, args);
  call.stream.write({ text: args.text ?? 'hello' });
  call.stream.end();
  return call.ended;
}

/** A bidi stream left open: write to `stream`, await `nextReply()`, end it with `stream.end()`. */
export interface OpenBidi {
  readonly stream: grpc.ClientDuplexStream<Request, Reply>;
  nextReply(): Promise<Reply>;
  readonly ended: Promise<CallResult>;
}

/** Opens a bidi stream. */
export function openBidi(client: grpc.Client, args: CallArgs = {}): OpenBidi {
  const m = echoService.Bidi;
  const stream = client.makeBidiStreamRequest(
    m.path,
    m.requestSerialize,
    m.responseDeserialize,
    args.metadata ?? new grpc.Metadata(),
    args.options ?? {},
  );
  const waiting: ((reply: Reply) => void)[] = [];
  const unread: Reply[] = [];
  stream.on('data', (reply: Reply) => {
    const waiter = waiting.shift();
    if (waiter) waiter(reply);
    else unread.push(reply);
  });
  const ended = new Promise<CallResult>((resolve) => collect(stream, resolve));
  return {
    stream,
    ended,
    nextReply: () => {
      const reply = unread.shift();
      return reply ? Promise.resolve(reply) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

function collect(
  stream: grpc.ClientReadableStream<Reply> | grpc.ClientDuplexStream<Request, Reply>,
  resolve: (result: CallResult) => void,
): void {
  const replies: Reply[] = [];
  stream.on('data', (reply: Reply) => replies.push(reply));
  stream.on('error', (error: grpc.ServiceError) => resolve({ replies, error }));
  stream.on('end', () => resolve({ replies, error: undefined }));
}

/** The four call types, by name, for tests that cover each. */
export const callTypes = { unary, clientStream, serverStream, bidi } as const;
export type CallType = keyof typeof callTypes;

/** A token server, a TokenManager using it, and the test gRPC service: everything a gRPC test needs. */
export interface Scene {
  readonly tokenServer: MockTokenServer;
  readonly tokens: TokenManager;
  readonly grpcServer: GrpcFixture;
}

/** Options of {@link startScene}. */
export interface SceneOptions {
  readonly tokenServer?: MockTokenServerOptions;
  /** TokenManager options on top of the defaults: `orders.read`, no retries (failures show at once). */
  readonly tokens?: TokenManagerOptions;
  /** Default true. */
  readonly tls?: boolean;
}

/**
 * Starts a MockTokenServer (with the test client allowed `orders.read`, `orders.write`,
 * `inventory.read`), a TokenManager on it, and the gRPC test service; all are closed when test `t` ends.
 */
export async function startScene(t: TestContext, options: SceneOptions = {}): Promise<Scene> {
  const tokenServer = await MockTokenServer.start(options.tokenServer ?? {});
  tokenServer.addClient({ clientId, clientSecret, allowedScopes: ['orders.read', 'orders.write', 'inventory.read'] });
  const tokens = new TokenManager(managerOptions(tokenServer, { retry: { retries: 0 }, ...options.tokens }));
  const grpcServer = await startGrpcFixture({ tls: options.tls ?? true });
  t.after(async () => {
    tokens.close();
    await grpcServer.close();
    await tokenServer.close();
  });
  return { tokenServer, tokens, grpcServer };
}

/** The bearer token in an `authorization` value. */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization?.startsWith('Bearer ')) throw new Error('not a Bearer authorization value');
  return authorization.slice('Bearer '.length);
}

/** Process warnings named `name` emitted while test `t` runs (listening stops when it ends). */
export function collectWarnings(t: TestContext, name: string): Error[] {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === name) warnings.push(warning);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  return warnings;
}

/** Resolves after the process has emitted its pending warnings (they go out on the next tick). */
export function warningsEmitted(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
