// The benchmark's server process: a TLS gRPC echo server and a MockTokenServer, both on 127.0.0.1,
// in a process of their own so that the client's measurements do not share an event loop with them
// (as in production, where they run on other machines). Started by ServerProcess with fork().
import * as grpc from '@grpc/grpc-js';
import { MockTokenServer, createTestCertificates, type TestCertificates } from '../../src/testing/index.js';
import { echoService } from './echo-service.js';
import { announceReady, listenTls, startChild, stopServers } from './server-child.js';
import { benchClient, type CommandMessage, type ReadyMessage, type ReplyMessage } from './protocol.js';

const unauthenticated = { code: grpc.status.UNAUTHENTICATED, details: 'no bearer token' };

/** The server checks only that a bearer token came: verifying it would cost the same in every variant. */
function hasBearer(metadata: grpc.Metadata): boolean {
  const [value] = metadata.get('authorization');
  return typeof value === 'string' && value.startsWith('Bearer ');
}

async function startGrpcServer(certs: TestCertificates): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(echoService, {
    Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      if (!hasBearer(call.metadata)) return callback(unauthenticated);
      callback(null, call.request);
    },
    Bidi(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
      if (!hasBearer(call.metadata)) return call.emit('error', unauthenticated);
      call.on('data', (message: Buffer) => call.write(message));
      call.on('end', () => call.end());
    },
  } satisfies grpc.UntypedServiceImplementation);
  return { server, address: await listenTls(server, certs) };
}

async function main(): Promise<void> {
  const certs = await createTestCertificates();
  // A client on a manual clock (refresh-cycles) keeps this clock with it, so JWT exp stays consistent.
  let clockOffsetMs = 0;
  const tokenServer = await MockTokenServer.start({ clock: { now: () => Date.now() + clockOffsetMs } });
  tokenServer.addClient({
    clientId: benchClient.clientId,
    clientSecret: benchClient.clientSecret,
    allowedScopes: [benchClient.scope],
  });
  const { server, address } = await startGrpcServer(certs);

  const reply = (id: number, value = 0): void => {
    process.send?.({ type: 'reply', id, value } satisfies ReplyMessage);
  };
  process.on('message', (message: CommandMessage) => {
    const { id, command } = message;
    switch (command.type) {
      case 'failNext':
        tokenServer.failNext(command.count, command.fault);
        return reply(id);
      case 'clearFaults':
        tokenServer.clearFaults();
        return reply(id);
      case 'setTokenLifetime':
        tokenServer.tokenLifetimeSec = command.seconds;
        return reply(id);
      case 'setClockOffset':
        clockOffsetMs = command.ms;
        return reply(id);
      case 'tokenRequestCount':
        return reply(id, tokenServer.tokenRequestCount);
      case 'stop':
        return stopServers(server, () => reply(id), tokenServer);
    }
  });
  announceReady({
    type: 'ready',
    grpcAddress: address,
    tokenEndpoint: tokenServer.tokenEndpoint,
    caCert: certs.caCert,
  } satisfies ReadyMessage);
}

startChild('bench server', main);
