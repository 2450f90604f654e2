// `npm run bench`: every figure, measured side by side on this machine, printed as a table and
// written to bench/results.json. `npm run bench -- --quick` runs a smaller plan (to check the bench
// itself, not to quote); `--only=overhead,get-token` runs only those sections.
import { performance } from 'node:perf_hooks';
import { createTokenManager } from './clients.js';
import { allocationPerCall } from './figures/allocation.js';
import { bidiThroughput } from './figures/bidi-throughput.js';
import { cachedGetToken } from './figures/get-token.js';
import { coldStart } from './figures/cold-start.js';
import { fleet } from './figures/fleet.js';
import { memory } from './figures/memory.js';
import { outage } from './figures/outage.js';
import { refreshCycles } from './figures/refresh-cycles.js';
import { serverCpu } from './figures/server-cpu.js';
import { sharedCache } from './figures/shared-cache.js';
import { refreshLatency } from './figures/refresh-latency.js';
import { unaryThroughput } from './figures/unary-throughput.js';
import type { Figure } from './lib/figure.js';
import { machine } from './lib/machine.js';
import { readResults, resultsFile, writeResults } from './lib/results-file.js';
import { markdownTable } from './lib/table.js';
import { fullPlan, quickPlan, type Plan } from './plan.js';
import { ServerProcess } from './server/server-process.js';

/** One section of the bench, named for what it measures: what it needs and the figures it measures. */
type Section = (context: { servers: ServerProcess; plan: Plan }) => Promise<Figure[]>;

const sections: Readonly<Record<string, { readonly title: string; readonly run: Section }>> = {
  overhead: {
    title: 'overhead against a static header (unary and bidi over TLS)',
    run: async ({ servers, plan }) => {
      const tokens = createTokenManager(servers);
      try {
        return [...(await unaryThroughput(servers, tokens, plan)), ...(await bidiThroughput(servers, tokens, plan))];
      } finally {
        tokens.close();
      }
    },
  },
  allocation: {
    title: 'bytes allocated per unary call, against the grpc-js floors',
    run: async ({ servers, plan }) => {
      const tokens = createTokenManager(servers);
      try {
        return await allocationPerCall(servers, tokens, plan);
      } finally {
        tokens.close();
      }
    },
  },
  'against-diy': {
    title: 'against the do-it-yourself peer (cold start, outage, latency across a refresh)',
    run: async ({ servers, plan }) => [
      ...(await coldStart(servers, plan)),
      ...(await outage(servers, plan)),
      ...(await refreshLatency(servers, plan)),
    ],
  },
  'get-token': {
    title: 'cached getToken()',
    run: async ({ servers, plan }) => {
      const tokens = createTokenManager(servers);
      try {
        return await cachedGetToken(tokens, plan);
      } finally {
        tokens.close();
      }
    },
  },
  memory: { title: 'memory', run: ({ servers, plan }) => memory(servers, plan) },
  'refresh-cycles': { title: 'refresh cycles', run: ({ servers, plan }) => refreshCycles(servers, plan) },
  fleet: { title: 'fleet', run: ({ plan }) => fleet(plan) },
  'shared-cache': {
    title: 'shared token cache on Redis (token requests of a fleet, cold getToken latency)',
    run: ({ plan }) => sharedCache(plan),
  },
  server: {
    title:
      'receiving side: server CPU per call (pass-through, SDK cached and uncached, do-it-yourself, mutual TLS and bound tokens)',
    run: ({ plan }) => serverCpu(plan),
  },
};

function chosenSections(args: readonly string[]): string[] {
  const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  if (only === undefined) return Object.keys(sections);
  const chosen = only.split(',').map((id) => id.trim());
  const unknown = chosen.filter((id) => !(id in sections));
  if (unknown.length > 0)
    throw new Error(`--only: no section ${unknown.join(', ')} (sections: ${Object.keys(sections).join(', ')})`);
  return chosen;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const plan = args.includes('--quick') ? quickPlan : fullPlan;
  const ids = chosenSections(args);
  const startedAt = new Date();
  const t0 = performance.now();
  const figures: Figure[] = [];
  const servers = await ServerProcess.start();
  try {
    for (const id of ids) {
      const section = sections[id]!;
      const sectionStart = performance.now();
      process.stderr.write(`${id}: ${section.title} ...`);
      figures.push(...(await section.run({ servers, plan })));
      process.stderr.write(` ${((performance.now() - sectionStart) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await servers.stop();
  }
  const durationSec = (performance.now() - t0) / 1000;
  const about = machine();
  console.log(`\n${markdownTable(figures)}\n`);
  for (const figure of figures.filter((f) => f.note !== undefined)) console.log(`- ${figure.id}: ${figure.note}`);
  console.log(
    `\n${about.cpus} CPUs (${about.cpuModel}), Node ${about.node}, grpc-js ${about.grpcJs}; ` +
      `${args.includes('--quick') ? 'quick' : 'full'} plan; ${durationSec.toFixed(0)} s. Ratios are ours / reference per round: median (min–max).`,
  );
  // The soak's results (`npm run soak`) are kept.
  const { soak } = await readResults();
  await writeResults({ startedAt: startedAt.toISOString(), durationSec, machine: about, plan, figures, soak });
  console.log(`written to ${resultsFile.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
