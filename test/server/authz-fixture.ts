// Fixtures of the A43 interceptor tests: a real grpc-js echo server on 127.0.0.1:0 behind the
// interceptors a test gives, over this package's mutual TLS credentials (client certificate optional),
// grpc-js's own TLS or plaintext; its handlers record each call they saw and each message they read.
import type { TestContext } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createTestCertificates,
  writeCertificateFiles,
  type ClientCertificate,
  type TestCertificates,
} from '../../src/testing/index.js';
import { createMtlsServerCredentials } from '../../src/server/index.js';
import { echoService, methodPaths, type Reply, type Request } from '../helpers/grpc-fixture.js';

export const callerSpiffeId = 'spiffe://example.test/ns/orders/sa/caller';
export const otherSpiffeId = 'spiffe://example.test/ns/other/sa/stranger';

/** The test CA and two client certificates, made once per process. */
export interface Certificates {
  readonly certs: TestCertificates;
  /** URI SAN {@link callerSpiffeId}. */
  readonly caller: ClientCertificate;
  /** URI SAN {@link otherSpiffeId}. */
  readonly other: ClientCertificate;
}

let shared: Promise<Certificates> | undefined;
export function certificates(): Promise<Certificates> {
  return (shared ??= (async () => {
    const certs = await createTestCertificates();
    const [caller, other] = await Promise.all([
      certs.issueClientCertificate({ spiffeId: callerSpiffeId }),
      certs.issueClientCertificate({ spiffeId: otherSpiffeId }),
    ]);
    return { certs, caller, other };
  })());
}

/** How the server listens: this package's mutual TLS (certificate optional), grpc-js's TLS, or plaintext. */
export type Transport = 'mtls' | 'grpc-js-tls' | 'plaintext';

export interface PolicyServer {
  readonly address: string;
  /** Each handler entry, by method path, in order. */
  readonly handled: string[];
  /** Request messages the handlers read. */
  readonly messagesRead: number;
  /** A client presenting `certificate` (none: no client certificate; ignored on plaintext), closed with the server. */
  client(certificate?: ClientCertificate, options?: grpc.ClientOptions): grpc.Client;
  /** TLS channel credentials trusting the test CA, with `certificate` when given. */
  channelCredentials(certificate?: ClientCertificate): grpc.ChannelCredentials;
}

/** Starts the echo service behind `interceptors` on 127.0.0.1:0; closed after `t`. */
export async function startPolicyServer(
  t: TestContext,
  interceptors: grpc.ServerInterceptor[],
  transport: Transport = 'mtls',
): Promise<PolicyServer> {
  const { certs } = await certificates();
  const handled: string[] = [];
  let messagesRead = 0;
  const server = new grpc.Server({ interceptors });
  const reply = (method: string, text: string): Reply => ({ method, authorization: [], metadata: {}, text });
  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      handled.push(methodPaths.unary);
      callback(null, reply(methodPaths.unary, call.request.text));
    },
    ClientStream(call: grpc.ServerReadableStream<Request, Reply>, callback: grpc.sendUnaryData<Reply>) {
      handled.push(methodPaths.clientStream);
      call.on('data', () => messagesRead++);
      call.on('end', () => callback(null, reply(methodPaths.clientStream, 'done')));
    },
    ServerStream(call: grpc.ServerWritableStream<Request, Reply>) {
      handled.push(methodPaths.serverStream);
      call.write(reply(methodPaths.serverStream, call.request.text));
      call.end();
    },
    Bidi(call: grpc.ServerDuplexStream<Request, Reply>) {
      handled.push(methodPaths.bidi);
      call.on('data', (request: Request) => {
        messagesRead++;
        call.write(reply(methodPaths.bidi, request.text));
      });
      call.on('end', () => call.end());
    },
  } satisfies grpc.UntypedServiceImplementation);
  const credentials = await serverCredentials(t, certs, transport);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const clients = new Set<grpc.Client>();
  t.after(() => {
    for (const client of clients) client.close();
    server.forceShutdown();
  });
  const address = `127.0.0.1:${port}`;
  const channelCredentials = (certificate?: ClientCertificate): grpc.ChannelCredentials =>
    grpc.credentials.createSsl(certs.caCertBuffer, certificate?.keyBuffer, certificate?.certBuffer);
  return {
    address,
    handled,
    get messagesRead() {
      return messagesRead;
    },
    channelCredentials,
    client(certificate, options = {}) {
      const client =
        transport === 'plaintext'
          ? new grpc.Client(address, grpc.credentials.createInsecure(), options)
          : new grpc.Client(address, channelCredentials(certificate), {
              'grpc.ssl_target_name_override': 'localhost',
              'grpc.default_authority': 'localhost',
              ...options,
            });
      clients.add(client);
      return client;
    },
  };
}

async function serverCredentials(
  t: TestContext,
  certs: TestCertificates,
  transport: Transport,
): Promise<grpc.ServerCredentials> {
  if (transport === 'plaintext') return grpc.ServerCredentials.createInsecure();
  if (transport === 'grpc-js-tls')
    return grpc.ServerCredentials.createSsl(
      certs.caCertBuffer,
      [{ private_key: certs.serverKeyBuffer, cert_chain: certs.serverCertBuffer }],
      false,
    );
  const dir = await mkdtemp(join(tmpdir(), 'authz-server-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await writeCertificateFiles(dir, { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert });
  return createMtlsServerCredentials({
    certFile: files.certFile,
    keyFile: files.keyFile,
    caFile: files.caFile,
    requireClientCertificate: false,
  });
}

/** Metadata with the given headers. */
export function headers(values: Record<string, string | string[]>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(values))
    for (const one of Array.isArray(value) ? value : [value]) metadata.add(key, one);
  return metadata;
}

/** An A43 policy named `authz` with the given rules (and audit options). */
export function policyOf(
  allowRules: object[],
  denyRules?: object[],
  audit?: { audit_condition: string; audit_loggers?: object[] },
): Record<string, unknown> {
  return {
    name: 'authz',
    allow_rules: allowRules,
    ...(denyRules === undefined ? {} : { deny_rules: denyRules }),
    ...(audit === undefined ? {} : { audit_logging_options: audit }),
  };
}
