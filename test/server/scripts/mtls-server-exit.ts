// Run by mtls-server-credentials.test.ts in a child process: binds a server on
// createMtlsServerCredentials (system clock, default one-minute re-read interval) over the files named by
// argv[2..4], shuts the server down once it is bound and prints a line. The process must then end on its
// own: nothing the credentials started (the re-read timer) may keep it alive.
import * as grpc from '@grpc/grpc-js';
import { createMtlsServerCredentials } from 'grpc-oauth2-credentials/server';

const [certFile, keyFile, caFile] = process.argv.slice(2) as [string, string, string];
const server = new grpc.Server();
server.bindAsync('127.0.0.1:0', createMtlsServerCredentials({ certFile, keyFile, caFile }), (error) => {
  if (error) throw error;
  server.tryShutdown(() => console.log('served and shut down'));
});
