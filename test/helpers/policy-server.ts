// A real grpc-js TLS server whose every handler first asks a test-chosen policy whether to refuse the
// call, and refuses it the way this SDK's ./server interceptor does: a status code, short details, and
// the `grpc-oauth2-reason` / `grpc-oauth2-scope` trailers (docs/server.md).
import type { TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createTestCertificates } from '../../src/testing/index.js';
import { echoService, listenOnLoopback, type Reply, type Request } from './grpc-fixture.js';

/** A refusal: the status and, like ./server, the reason and wanted scopes as trailers. */
export interface Refusal {
  readonly code: grpc.status;
  readonly details: string;
  readonly reason?: string;
  readonly scopes?: string;
}

/** Decides per call, from its `authorization` value and method, whether to refuse it. */
export type Policy = (authorization: string | undefined, method: string) => Refusal | undefined;

export interface PolicyServer {
  readonly address: string;
  policy: Policy;
  readonly channelCredentials: grpc.ChannelCredentials;
  /** A client for this server, closed when the test ends. */
  client(interceptors: grpc.Interceptor[]): grpc.Client;
}

let certificates: ReturnType<typeof createTestCertificates> | undefined;

/** Starts the server on 127.0.0.1:0 over TLS; it and its clients close when `t` ends. */
export async function startPolicyServer(t: TestContext, policy: Policy = () => undefined): Promise<PolicyServer> {
  const certs = await (certificates ??= createTestCertificates());
  const server = new grpc.Server();
  const clients: grpc.Client[] = [];
  const refusalOf = (metadata: grpc.Metadata, method: string): Partial<grpc.StatusObject> | undefined => {
    const refusal = fixture.policy(metadata.get('authorization').map(String)[0], method);
    if (refusal === undefined) return undefined;
    const trailers = new grpc.Metadata();
    if (refusal.reason !== undefined) trailers.set('grpc-oauth2-reason', refusal.reason);
    if (refusal.scopes !== undefined) trailers.set('grpc-oauth2-scope', refusal.scopes);
    return { code: refusal.code, details: refusal.details, metadata: trailers };
  };
  const reply = (method: string, text: string): Reply => ({ method, authorization: [], metadata: {}, text });
  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      const refused = refusalOf(call.metadata, echoService.Unary.path);
      if (refused) return callback(refused);
      callback(null, reply(echoService.Unary.path, call.request.text));
    },
    ClientStream(call: grpc.ServerReadableStream<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      const refused = refusalOf(call.metadata, echoService.ClientStream.path);
      if (refused) return callback(refused);
      call.on('data', () => undefined);
      call.on('end', () => callback(null, reply(echoService.ClientStream.path, 'done')));
    },
    ServerStream(call: grpc.ServerWritableStream<Request, Reply>) {
      const refused = refusalOf(call.metadata, echoService.ServerStream.path);
      if (refused) return call.emit('error', refused);
      call.write(reply(echoService.ServerStream.path, call.request.text));
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<Request, Reply>) {
      const refused = refusalOf(call.metadata, echoService.Bidi.path);
      if (refused) return call.emit('error', refused);
      call.on('data', (request: Request) => call.write(reply(echoService.Bidi.path, request.text)));
      call.on('end', () => call.end());
    },
  } satisfies grpc.UntypedServiceImplementation);
  const port = await listenOnLoopback(server, certs);
  const channelCredentials = grpc.credentials.createSsl(certs.caCertBuffer);
  const fixture: PolicyServer = {
    address: `127.0.0.1:${port}`,
    policy,
    channelCredentials,
    client(interceptors) {
      const client = new grpc.Client(fixture.address, channelCredentials, {
        'grpc.ssl_target_name_override': 'localhost',
        'grpc.default_authority': 'localhost',
        interceptors,
      });
      clients.push(client);
      return client;
    },
  };
  t.after(() => {
    for (const client of clients) client.close();
    server.forceShutdown();
  });
  return fixture;
}
