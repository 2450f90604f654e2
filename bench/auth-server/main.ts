// The server benchmark's server process: a TLS grpc-js echo server on 127.0.0.1 whose interceptor is
// switched between the variants of variants.ts, and nothing else. Its CPU time is counted round by
// round (`begin` to `end`), apart from the client's and the issuer's, which run in the bench process.
// Started by AuthServerProcess with fork(), with an AuthServerStart as its argument.
import * as grpc from '@grpc/grpc-js';
import { createTestCertificates } from '../../src/testing/index.js';
import { countAllocation } from '../lib/allocation.js';
import { startProfile } from '../lib/profiles.js';
import { echoService } from '../server/echo-service.js';
import { announceReady, listenTls, startChild, stopServers } from '../server/server-child.js';
import type { AuthServerReady, AuthServerStart, AuthServerReply, AuthServerRequest, RoundCount } from './protocol.js';
import { buildInterceptors } from './variants.js';

async function main(): Promise<void> {
  const { issuer, audience, opaqueAudience } = JSON.parse(process.argv[2]!) as AuthServerStart;
  const certs = await createTestCertificates();
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
  const grpcAddress = await listenTls(server, certs);

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
  announceReady({ type: 'ready', grpcAddress, caCert: certs.caCert } satisfies AuthServerReady);
}

startChild('bench auth server', main);
