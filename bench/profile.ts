// Runs unary calls through one client variant, for a CPU profile of where its time goes:
//   node --cpu-prof --cpu-prof-dir=.tmp/profile --import tsx bench/profile.ts interceptor
// Variants: static, interceptor, interceptor-no-replay, interceptor-floor, channel, channel-floor, diy. The profile of the
// client is the largest .cpuprofile written (the server process writes its own); open it in Chrome
// DevTools or compare two variants' self times.
import { closedLoop } from './lib/calls.js';
import {
  channelCredentialsClient,
  constantCallCredentialsClient,
  constantInterceptorClient,
  createTokenManager,
  diyClient,
  interceptorClient,
  staticHeaderClient,
  type BenchClient,
} from './clients.js';
import type { TokenManager } from '../src/index.js';
import { ServerProcess, type ServerAddresses } from './server/server-process.js';

const calls = 50_000;
const concurrency = 50;

type Factory = (servers: ServerAddresses, tokens: TokenManager, authorization: string) => BenchClient;

const variants: Readonly<Record<string, Factory>> = {
  static: (servers, _tokens, authorization) => staticHeaderClient(servers, authorization),
  interceptor: (servers, tokens) => interceptorClient(servers, tokens),
  'interceptor-no-replay': (servers, tokens) => interceptorClient(servers, tokens, { retryOnUnauthenticated: false }),
  'interceptor-floor': (servers, _tokens, authorization) => constantInterceptorClient(servers, authorization),
  channel: (servers, tokens) => channelCredentialsClient(servers, tokens),
  'channel-floor': (servers, _tokens, authorization) => constantCallCredentialsClient(servers, authorization),
  diy: (servers) => diyClient(servers),
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'interceptor';
  const factory = variants[name];
  if (factory === undefined) throw new Error(`unknown variant ${name}; one of: ${Object.keys(variants).join(', ')}`);
  const servers = await ServerProcess.start();
  const tokens = createTokenManager(servers);
  try {
    const bench = factory(servers, tokens, `Bearer ${(await tokens.getToken()).accessToken}`);
    const cpuBefore = process.cpuUsage();
    const result = await closedLoop(bench, { concurrency, stop: { calls } });
    const cpu = process.cpuUsage(cpuBefore);
    bench.client.close();
    console.log(
      `${name}: ${Math.round(result.callsPerSecond)} calls/s, ${((cpu.user + cpu.system) / calls).toFixed(1)} µs CPU per call, ${result.failures} failed`,
    );
  } finally {
    tokens.close();
    await servers.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
