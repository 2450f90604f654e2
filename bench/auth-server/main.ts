// The server benchmark's server process: a grpc-js echo server on 127.0.0.1, on a TLS port and a
// mutual-TLS port, whose interceptor is switched between the variants of variants.ts, and nothing
// else. Its CPU time is counted round by round (`begin` to `end`), apart from the client's and the
// issuer's, which run in the bench process. Started by AuthServerProcess with fork(), with an
// AuthServerStart as its argument.
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { createMtlsServerCredentials } from '../../src/server/index.js';
import { countAllocation } from '../lib/allocation.js';
import { startProfile } from '../lib/profiles.js';
import { echoService } from '../server/echo-service.js';
import { announceReady, listen, listenTls, startChild, stopServers } from '../server/server-child.js';
import type { AuthServerReady, AuthServerStart, AuthServerReply, AuthServerRequest, RoundCount } from './protocol.js';
import { buildInterceptors } from './variants.js';

/**
 * The mutual-TLS port's credentials, as a user makes them: the client must present a certificate of
 * the CA in `caFile`, and each connection's certificate is read once.
 */
function mutualTlsCredentials({ certFile, keyFile, caFile }: AuthServerStart['tlsFiles']): grpc.ServerCredentials {
  return createMtlsServerCredentials({ certFile, keyFile, caFile, requireClientCertificate: true });
}

async function main(): Promise<void> {
  const { issuer, audience, opaqueAudience, tlsFiles } = JSON.parse(process.argv[2]!) as AuthServerStart;
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const interceptors = buildInterceptors({ issuer, audience, opaqueAudience, jwksUri: new URL(discovery.jwks_uri) });

  let current = interceptors.passThrough;
  let calls = 0;
  const server = new grpc.Server({ interceptors: [(descriptor, nextCall) => current(descriptor, nextCall)] });
  server.addService({ Unary: echoService.Unary }, {
    Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      calls++;
      callback(null, call.request);
    },
  } satisfies grpc.UntypedServiceImplementation);
  const grpcAddress = await listenTls(server, {
    serverCertBuffer: await readFile(tlsFiles.certFile),
    serverKeyBuffer: await readFile(tlsFiles.keyFile),
  });
  const mtlsAddress = await listen(server, mutualTlsCredentials(tlsFiles));

  let endRound: (() => RoundCount) | undefined;
  let writeProfile: (() => Promise<void>) | undefined;
  const beginRound = (): void => {
    calls = 0;
    const cpuBefore = process.cpuUsage();
    const allocated = countAllocation();
    endRound = () => {
      const cpu = process.cpuUsage(cpuBefore);
      const { bytes, gcMicros } = allocated();
      return { cpuMicros: cpu.user + cpu.system, allocatedBytes: bytes, gcMicros, calls };
    };
  };
  const reply = (id: number, count?: RoundCount): void => {
    process.send?.({ type: 'reply', id, count } satisfies AuthServerReply);
  };
  process.on('message', ({ id, command }: AuthServerRequest) => {
    switch (command.type) {
      case 'begin':
        current = interceptors[command.variant];
        if (command.profile === undefined) {
          beginRound();
          return reply(id);
        }
        void startProfile(command.profile.kind).then((stop) => {
          writeProfile = () => stop(command.profile!.file);
          beginRound();
          reply(id);
        });
        return;
      case 'end': {
        const count = endRound?.();
        endRound = undefined;
        if (writeProfile === undefined) return reply(id, count);
        void writeProfile().then(() => reply(id, count));
        writeProfile = undefined;
        return;
      }
      case 'stop':
        return stopServers(server, () => reply(id));
    }
  });
  announceReady({ type: 'ready', grpcAddress, mtlsAddress } satisfies AuthServerReady);
}

startChild('bench auth server', main);
