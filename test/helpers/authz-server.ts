// A real grpc-js server running one authorization interceptor in front of the test service of
// grpc-fixture.ts, on two ports of 127.0.0.1: plaintext, and TLS that asks every client for a
// certificate but also serves one without (createMtlsServerCredentials, requireClientCertificate
// false). Its handlers count the calls they answered, so a test sees a refusal came before them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createMtlsServerCredentials, reasonTrailer } from '../../src/server/index.js';
import { writeCertificateFiles } from '../../src/testing/index.js';
import type { AuthzCertificates, ClientName } from './authz-certificates.js';
import { echoService, methodPaths, type Reply, type Request } from './grpc-fixture.js';

/** How a client reaches the server: plaintext, TLS without a client certificate, or mutual TLS with one. */
export type Transport = 'plaintext' | 'tls' | ClientName;

export interface AuthzServer {
  /** Calls each handler answered, by method path. */
  readonly handled: Map<string, number>;
  /** A client on `transport` (a new channel each time), closed with the server. */
  client(transport: Transport): grpc.Client;
}

/** Starts the server with `interceptor`; it and its clients are closed when `t` ends. */
export async function startAuthzServer(
  t: TestContext,
  certificates: AuthzCertificates,
  interceptor: grpc.ServerInterceptor,
): Promise<AuthzServer> {
  const dir = await mkdtemp(join(tmpdir(), 'authz-interop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await writeCertificateFiles(dir, {
    cert: certificates.serverCert,
    key: certificates.serverKey,
    ca: certificates.caCerts,
  });
  const tlsCredentials = createMtlsServerCredentials({ ...pathsOf(files), requireClientCertificate: false });
  const server = new grpc.Server({ interceptors: [interceptor] });
  const handled = new Map<string, number>();
  const count = (path: string): void => void handled.set(path, (handled.get(path) ?? 0) + 1);
  const reply = (method: string, text: string): Reply => ({ method, authorization: [], metadata: {}, text });
  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      count(methodPaths.unary);
      callback(null, reply(methodPaths.unary, call.request.text));
    },
    ClientStream(call: grpc.ServerReadableStream<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      count(methodPaths.clientStream);
      let messages = 0;
      call.on('data', () => messages++);
      call.on('end', () => callback(null, reply(methodPaths.clientStream, String(messages))));
    },
    ServerStream(call: grpc.ServerWritableStream<Request, Reply>) {
      count(methodPaths.serverStream);
      call.write(reply(methodPaths.serverStream, call.request.text));
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<Request, Reply>) {
      count(methodPaths.bidi);
      call.on('data', (request: Request) => call.write(reply(methodPaths.bidi, request.text)));
      call.on('end', () => call.end());
    },
  } satisfies grpc.UntypedServiceImplementation);
  const bind = (credentials: grpc.ServerCredentials): Promise<number> =>
    new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (error, port) => (error ? reject(error) : resolve(port))),
    );
  const plaintextPort = await bind(grpc.ServerCredentials.createInsecure());
  const tlsPort = await bind(tlsCredentials);
  const clients = new Set<grpc.Client>();
  t.after(() => {
    for (const client of clients) client.close();
    server.forceShutdown();
  });
  return {
    handled,
    client(transport) {
      const client =
        transport === 'plaintext'
          ? new grpc.Client(`127.0.0.1:${plaintextPort}`, grpc.credentials.createInsecure())
          : new grpc.Client(`127.0.0.1:${tlsPort}`, tlsChannel(certificates, transport), {
              // The server certificate names localhost; dialling 127.0.0.1 avoids ::1.
              'grpc.ssl_target_name_override': 'localhost',
              'grpc.default_authority': 'localhost',
            });
      clients.add(client);
      return client;
    },
  };
}

function tlsChannel(certificates: AuthzCertificates, transport: Exclude<Transport, 'plaintext'>) {
  if (transport === 'tls') return grpc.credentials.createSsl(certificates.caCertBuffer);
  const { keyBuffer, certBuffer } = certificates.clients[transport];
  return grpc.credentials.createSsl(certificates.caCertBuffer, keyBuffer, certBuffer);
}

function pathsOf({ certFile, keyFile, caFile }: { certFile: string; keyFile: string; caFile: string }) {
  return { certFile, keyFile, caFile };
}

/** `PERMISSION_DENIED` with this package's reason, or `OK`: what a call's error says. */
export function outcomeOf(error: grpc.ServiceError | undefined): string {
  if (error === undefined) return 'OK';
  const [reason] = error.metadata?.get(reasonTrailer) ?? [];
  if (error.code === grpc.status.PERMISSION_DENIED && reason === 'policy_denied') return 'DENIED';
  return `${grpc.status[error.code]} (${String(reason)}): ${error.details}`;
}
