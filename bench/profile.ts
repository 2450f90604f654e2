// Runs unary calls through one client variant, for a profile of where its time, or its allocations, go:
//   node --cpu-prof --cpu-prof-dir=.tmp/profile --import tsx bench/profile.ts interceptor
//   node --import tsx bench/profile.ts interceptor --heap
// Variants: static, interceptor, interceptor-no-replay, interceptor-floor, channel, channel-floor, diy.
// CPU: the profile of the client is the largest .cpuprofile written (the server process writes its
// own); open it in Chrome DevTools or compare two variants' self times. Heap (`--heap`): a sampling
// heap profile of every allocation, collected garbage included, over the calls after a warm-up,
// written to .tmp/profile/<variant>.heapprofile (Chrome DevTools opens it), with the allocating
// functions printed by bytes per call.
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { closedLoop } from './lib/calls.js';
import { largestFirst, perCallBySite, startProfile } from './lib/profiles.js';
import { closeClients, createTokenManager, openClients, type BenchClient, type ClientVariant } from './clients.js';
import { ServerProcess } from './server/server-process.js';

const calls = 50_000;
const concurrency = 50;
const profileDir = new URL('../.tmp/profile/', import.meta.url);

/** The variants by the names this script takes. */
const variants: Readonly<Record<string, ClientVariant>> = {
  static: 'staticHeader',
  interceptor: 'interceptor',
  'interceptor-no-replay': 'interceptorNoReplay',
  'interceptor-floor': 'interceptorFloor',
  channel: 'channelCredentials',
  'channel-floor': 'channelFloor',
  diy: 'diy',
};

async function heapProfile(name: string, bench: BenchClient): Promise<void> {
  await closedLoop(bench, { concurrency, stop: { calls: 10_000 } });
  const stop = await startProfile('heap');
  await closedLoop(bench, { concurrency, stop: { calls } });
  await mkdir(profileDir, { recursive: true });
  const file = fileURLToPath(new URL(`${name}.heapprofile`, profileDir));
  await stop(file);
  const sites = largestFirst(perCallBySite('heap', JSON.parse(await readFile(file, 'utf8')), calls));
  const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0);
  console.log(`${name}: ${Math.round(total)} bytes per call (sampled); written to ${file}`);
  for (const [site, bytes] of sites.slice(0, 40)) console.log(`${Math.round(bytes).toString().padStart(7)}  ${site}`);
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'interceptor';
  const variant = variants[name];
  if (variant === undefined) throw new Error(`unknown variant ${name}; one of: ${Object.keys(variants).join(', ')}`);
  const servers = await ServerProcess.start();
  const tokens = createTokenManager(servers);
  try {
    const clients = await openClients(servers, tokens, [variant]);
    const bench = clients[variant];
    if (process.argv.includes('--heap')) {
      await heapProfile(name, bench);
    } else {
      const cpuBefore = process.cpuUsage();
      const result = await closedLoop(bench, { concurrency, stop: { calls } });
      const cpu = process.cpuUsage(cpuBefore);
      console.log(
        `${name}: ${Math.round(result.callsPerSecond)} calls/s, ${((cpu.user + cpu.system) / calls).toFixed(1)} µs CPU per call, ${result.failures} failed`,
      );
    }
    closeClients(clients);
  } finally {
    tokens.close();
    await servers.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
