// A grpc-js server whose one unary method answers with what `call.getAuthContext()` gave it, for the
// mutual TLS tests: listens on 127.0.0.1:0 with the server credentials a test passes, closed by `t.after`.
import { X509Certificate, createHash } from 'node:crypto';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { echoService, methodPaths, type Reply, type Request } from './grpc-fixture.js';

/** What the handler saw of its peer, as JSON-safe values. */
export interface PeerSeen {
  /** `Object.keys(call.getAuthContext() ?? {})`, sorted. */
  readonly keys: string[];
  readonly transportSecurityType: string | undefined;
  /** Whether `sslPeerCertificate` is an empty object (`{}`) rather than a certificate. */
  readonly certificateEmpty: boolean | undefined;
  readonly subjectaltname: string | undefined;
  readonly subjectCN: string | undefined;
  /** base64url SHA-256 of `sslPeerCertificate.raw`, when it is there. */
  readonly rawSha256: string | undefined;
  readonly rawIsX509: boolean;
}

/** Starts the server with `credentials` and resolves with its port. */
export async function startPeerEcho(t: TestContext, credentials: grpc.ServerCredentials): Promise<number> {
  const server = new grpc.Server();
  server.addService(
    { Unary: echoService.Unary },
    {
      Unary: (call: grpc.ServerUnaryCall<Request, Reply>, callback: grpc.sendUnaryData<Reply>) => {
        const context = call.getAuthContext() ?? {};
        const certificate = context.sslPeerCertificate;
        const raw = certificate?.raw;
        const seen: PeerSeen = {
          keys: Object.keys(context).sort(),
          transportSecurityType: context.transportSecurityType,
          certificateEmpty: certificate === undefined ? undefined : Object.keys(certificate).length === 0,
          subjectaltname: certificate?.subjectaltname,
          subjectCN: certificate?.subject ? String(certificate.subject.CN) : undefined,
          rawSha256: Buffer.isBuffer(raw) ? createHash('sha256').update(raw).digest('base64url') : undefined,
          rawIsX509: Buffer.isBuffer(raw) && isX509(raw),
        };
        callback(null, seen as unknown as Reply); // the fixture's JSON serializer carries any object
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  t.after(() => server.forceShutdown());
  return port;
}

/** One call on a new client (a new connection) with `credentials`; resolves with what the server saw. */
export async function askPeer(t: TestContext, port: number, credentials: grpc.ChannelCredentials): Promise<PeerSeen> {
  const client = openPeerClient(port, credentials);
  t.after(() => client.close());
  try {
    return await askOn(client);
  } finally {
    client.close();
  }
}

/** One call on `client` (on its open connection, if it has one); resolves with what the server saw. */
export async function askOn(client: grpc.Client): Promise<PeerSeen> {
  return (await answerOf(client)) as unknown as PeerSeen;
}

/** The reply of one unary call on `client` (the fixture's Unary method, 5 s deadline), as the server's object. */
export function answerOf(client: grpc.Client): Promise<Reply | undefined> {
  const { requestSerialize, responseDeserialize } = echoService.Unary;
  return new Promise<Reply | undefined>((resolve, reject) =>
    client.makeUnaryRequest(
      methodPaths.unary,
      requestSerialize,
      responseDeserialize,
      { text: '' },
      { deadline: Date.now() + 5000 },
      (err, value) => (err ? reject(err) : resolve(value)),
    ),
  );
}

/** A client of the server on `port` with its own subchannel pool: its first call opens a new connection. */
export function openPeerClient(port: number, credentials: grpc.ChannelCredentials): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, credentials, {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.use_local_subchannel_pool': 1,
  });
}

/** base64url SHA-256 of a PEM certificate's DER, as `PeerSeen.rawSha256` and RFC 8705's `x5t#S256`. */
export function certificateSha256(pem: string | Buffer): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/**
 * Opens a new TLS connection to the server on `port` (ALPN h2, as grpc-js), presenting `cert` and
 * `key` when given, and resolves with the base64url SHA-256 of the certificate the server served.
 */
export async function servedCertificateSha256(
  port: number,
  { ca, cert, key }: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer },
): Promise<string> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca,
    cert,
    key,
    servername: 'localhost',
    ALPNProtocols: ['h2'],
  });
  try {
    await once(socket, 'secureConnect');
    return createHash('sha256').update(socket.getPeerCertificate().raw).digest('base64url');
  } finally {
    socket.destroy();
  }
}

function isX509(raw: Buffer): boolean {
  try {
    new X509Certificate(raw);
    return true;
  } catch {
    return false;
  }
}
