// What both bench server processes (server/main.ts, auth-server/main.ts) do as children of the bench
// process: listen with TLS on 127.0.0.1, say when they are ready, stop when told, and not outlive it.
import * as grpc from '@grpc/grpc-js';
import type { TestCertificates } from '../../src/testing/index.js';

/** Binds `server` with the server certificate of `certs`; resolves with `127.0.0.1:<port>`. */
export function listenTls(
  server: grpc.Server,
  certs: Pick<TestCertificates, 'serverKeyBuffer' | 'serverCertBuffer'>,
): Promise<string> {
  const credentials = grpc.ServerCredentials.createSsl(
    null,
    [{ private_key: certs.serverKeyBuffer, cert_chain: certs.serverCertBuffer }],
    false,
  );
  return listen(server, credentials);
}

/** Binds `server` on a port of 127.0.0.1 with `credentials`; resolves with `127.0.0.1:<port>`. */
export async function listen(server: grpc.Server, credentials: grpc.ServerCredentials): Promise<string> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort))),
  );
  return `127.0.0.1:${port}`;
}

/** Sends `ready` to the parent, and exits when the parent goes, which may happen without a `stop`. */
export function announceReady(ready: object): void {
  process.on('disconnect', () => process.exit(0));
  process.send?.(ready);
}

/** On `stop`: shuts the gRPC server down at once, then closes `other` (if any), replies and lets the parent go. */
export function stopServers(server: grpc.Server, reply: () => void, other?: { close(): Promise<void> }): void {
  server.forceShutdown();
  void Promise.resolve(other?.close()).then(() => {
    reply();
    process.disconnect();
  });
}

/** Runs the process's `main`; a failure to start is printed and ends the process with 1. */
export function startChild(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`${name} failed to start:`, err);
    process.exit(1);
  });
}
