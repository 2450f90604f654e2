// Where the receiving side's CPU time, or its allocations, go: unary calls through server interceptor
// variants, each profiled in the server process over its calls after a warm-up, and the functions
// whose self time (or bytes allocated) per call differ most between the first variant and each other:
//   node --import tsx bench/profile-server.ts [variant ...] [--heap] [--calls=50000]
// Variants (auth-server/protocol.ts): passThrough, passThroughTwin, sdkCached, sdkUncached, diy,
// sdkOpaqueCached, sdkMtlsUnbound, sdkMtlsBound; default `passThrough sdkCached`. Profiles go to .tmp/profile/server-<variant>.cpuprofile (or
// .heapprofile); Chrome DevTools opens them. The CPU profiler samples every 100 µs and adds its own
// cost to every variant; compare the differences, not the totals.
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AuthServerProcess } from './auth-server/auth-server-process.js';
import { serverVariants, type ServerVariant } from './auth-server/protocol.js';
import { closeClients } from './clients.js';
import { closedLoop } from './lib/calls.js';
import { largestFirst, perCallBySite, type ProfileKind } from './lib/profiles.js';

const concurrency = 50;
const warmupCalls = 10_000;
const profileDir = new URL('../.tmp/profile/', import.meta.url);

/**
 * Names the bundle's lines in `bySite` by the source file they came from (esbuild heads each
 * module's code with a `// path` comment): `decide src/server/decision.ts (bundle:472)`.
 */
function sourceNamed(bySite: Map<string, number>, bundleFile: string, bundle: string): Map<string, number> {
  const heads = bundle
    .split('\n')
    .flatMap((line, index) => (/^\/\/ [\w./-]+\.ts$/.test(line) ? [[index + 1, line.slice(3)] as const] : []));
  const prefix = `${pathToFileURL(bundleFile).href}:`;
  const named = new Map<string, number>();
  for (const [site, value] of bySite) {
    const at = site.indexOf(prefix);
    const line = at === -1 ? NaN : Number(site.slice(at + prefix.length));
    const module = heads.findLast(([start]) => start <= line)?.[1];
    const name = module === undefined ? site : `${site.slice(0, at)}${module} (bundle:${line})`;
    named.set(name, (named.get(name) ?? 0) + value);
  }
  return named;
}

function printDifference(kind: ProfileKind, ours: Map<string, number>, reference: Map<string, number>): void {
  const sites = new Set([...ours.keys(), ...reference.keys()]);
  const difference = new Map([...sites].map((site) => [site, (ours.get(site) ?? 0) - (reference.get(site) ?? 0)]));
  const digits = kind === 'cpu' ? 2 : 0;
  for (const [site, delta] of largestFirst(difference).slice(0, 40)) {
    if (site === '(idle)') continue;
    const value = (ours.get(site) ?? 0).toFixed(digits);
    console.log(`${delta >= 0 ? '+' : ''}${delta.toFixed(digits).padStart(8)}  ${value.padStart(7)}  ${site}`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const kind: ProfileKind = args.includes('--heap') ? 'heap' : 'cpu';
  const calls = Number(args.find((arg) => arg.startsWith('--calls='))?.slice('--calls='.length) ?? 50_000);
  const names = args.filter((arg) => !arg.startsWith('--'));
  const variants = (names.length > 0 ? names : ['passThrough', 'sdkCached']) as ServerVariant[];
  const unknown = variants.filter((variant) => !serverVariants.includes(variant));
  if (unknown.length > 0)
    throw new Error(`unknown variant ${unknown.join(', ')}; one of: ${serverVariants.join(', ')}`);
  await mkdir(profileDir, { recursive: true });
  const server = await AuthServerProcess.start();
  try {
    const clients = await server.openClients(variants);
    const bundle = await readFile(server.bundleFile, 'utf8');
    const bySite = new Map<ServerVariant, Map<string, number>>();
    for (const variant of variants) {
      const client = clients[variant];
      await server.begin(variant);
      await closedLoop(client, { concurrency, stop: { calls: warmupCalls } });
      await server.end();
      const file = fileURLToPath(new URL(`server-${variant}.${kind}profile`, profileDir));
      await server.begin(variant, { kind, file });
      const result = await closedLoop(client, { concurrency, stop: { calls } });
      const count = await server.end();
      console.log(
        `${variant}: ${(count.cpuMicros / count.calls).toFixed(1)} µs server CPU (${(count.gcMicros / count.calls).toFixed(1)} µs GC) ` +
          `and ${Math.round(count.allocatedBytes / count.calls)} bytes per call (profiled), ${result.failures} failed; ${file}`,
      );
      const profile: unknown = JSON.parse(await readFile(file, 'utf8'));
      bySite.set(variant, sourceNamed(perCallBySite(kind, profile, count.calls), server.bundleFile, bundle));
    }
    closeClients(clients);
    const [first, ...others] = variants;
    for (const variant of others) {
      console.log(`\n${variant} against ${first}: ${kind === 'cpu' ? 'µs of self time' : 'bytes allocated'} per call`);
      console.log('(difference, then ours; largest difference first)');
      printDifference(kind, bySite.get(variant)!, bySite.get(first!)!);
    }
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
