// `npm run soak`: the SDK through a month of faults, seeded and reproducible. Prints its figures as a
// table, writes them to bench/results.json under `soak` (keeping the bench's), and exits with 1 when
// a goal is missed. `--help` says how to run it.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Figure } from './lib/figure.js';
import { machine } from './lib/machine.js';
import { readResults, resultsFile, writeResults } from './lib/results-file.js';
import { markdownTable } from './lib/table.js';
import { runProcessSoak } from './soak/process-soak.js';
import { maxSeed } from './soak/random.js';
import { processSoakFigures } from './soak/soak-figures.js';

const parts = ['process', 'fleet', 'all'] as const;
type Part = (typeof parts)[number];

const help = `Usage: npm run soak -- [options]
       node --import tsx bench/soak.ts [options]

Runs the SDK through simulated weeks of faults and checks its reliability figures
(docs/performance.md, "Reliability"). Prints the seed first: the same seed gives the same run.

Options:
  --seed=N         seed of every random choice, an integer from 0 to ${maxSeed} (default: drawn at random)
  --days=N         simulated days (default 30; about a minute of wall time on 2 cores)
  --part=PART      process: one process, simulated time: 20 scope sets across 4 TokenManagers on a
                     ManualClock, callers at random times, faults drawn at random
                   fleet: 10 processes sharing a real redis-server in real time, with kills, Redis
                     restarts and pauses, token-server faults (bench/soak-fleet/main.ts, which
                     takes more flags; run it directly for them)
                   all: both (default)
  --fleet-seconds=N  how long the fleet part runs, in seconds of real time (default 180)
  --json           print the results as JSON instead of a table
  -h, --help       this help

Exit status: 0 when every goal is met, 1 when one is missed, 2 for a bad option.`;

class UsageError extends Error {}

interface Options {
  readonly seed: number;
  readonly days: number;
  readonly part: Part;
  readonly json: boolean;
  readonly fleetSeconds: number;
}

function parseOptions(args: string[]): Options | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        seed: { type: 'string' },
        days: { type: 'string', default: '30' },
        part: { type: 'string', default: 'all' },
        json: { type: 'boolean', default: false },
        'fleet-seconds': { type: 'string', default: '180' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return undefined;
  const seed = values.seed === undefined ? randomInt(maxSeed) : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > maxSeed)
    throw new UsageError(`--seed must be an integer from 0 to ${maxSeed}`);
  const days = Number(values.days);
  if (!Number.isFinite(days) || days <= 0 || days > 366)
    throw new UsageError('--days must be a number of days above 0, at most 366');
  const part = values.part as Part;
  if (!parts.includes(part)) throw new UsageError(`--part must be one of ${parts.join(', ')}`);
  const fleetSeconds = Number(values['fleet-seconds']);
  if (!Number.isInteger(fleetSeconds) || fleetSeconds < 10 || fleetSeconds > 3_600)
    throw new UsageError('--fleet-seconds must be a whole number from 10 to 3600');
  return { seed, days, part, json: values.json, fleetSeconds };
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`soak: ${err.message}\n\n${help}`);
    return 2;
  }
  if (options === undefined) {
    console.log(help);
    return 0;
  }
  const processMet = options.part === 'fleet' ? true : await processPart(options);
  const fleetMet = options.part === 'process' ? true : await fleetPart(options);
  return processMet && fleetMet ? 0 : 1;
}

/**
 * The fleet part, in a process of its own (bench/soak-fleet/main.ts): it forks the fleet, starts
 * redis-server, and stops them all by PID however it ends. Its figures go under `soakFleet`.
 */
function fleetPart({ seed, fleetSeconds }: Options): Promise<boolean> {
  const args = ['--import', 'tsx', fileURLToPath(new URL('soak-fleet/main.ts', import.meta.url))];
  args.push(`--seed=${seed}`, `--duration=${fleetSeconds}`);
  console.error(`soak: fleet part, seed ${seed}, ${fleetSeconds} s of real time`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code === 0));
  });
}

async function processPart(options: Options): Promise<boolean> {
  const { seed, days, json } = options;
  const reproduce = `npm run soak -- --part=process --seed=${seed} --days=${days}`;
  console.error(`soak: seed ${seed}, ${days} simulated days, part process`);
  const startedAt = new Date();
  const result = await runProcessSoak({ seed, days, log: (line) => console.error(`  ${line}`) });
  const figures: Figure[] = processSoakFigures(result, days);
  const soak = {
    startedAt: startedAt.toISOString(),
    seed,
    days,
    parts: ['process'],
    wallTimeSec: Math.round(result.wallTimeSec * 10) / 10,
    digest: result.digest,
    reproduce,
    machine: machine(),
    figures,
    examples: result.tally.examples,
  };
  await writeResults({ ...(await readResults()), soak });
  if (json) {
    console.log(JSON.stringify(soak, null, 2));
  } else {
    console.log(`\n${markdownTable(figures)}\n`);
    for (const figure of figures.filter((f) => f.note !== undefined)) console.log(`- ${figure.id}: ${figure.note}`);
    for (const example of result.tally.examples) console.log(`- example: ${example}`);
    console.log(
      `\nseed ${seed}, ${days} simulated days in ${result.wallTimeSec.toFixed(1)} s of wall time; run digest ${result.digest.slice(0, 16)}`,
    );
    console.log(`reproduce: ${reproduce}`);
    console.log(`written to ${resultsFile.pathname}`);
  }
  return figures.every((figure) => figure.met !== false);
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
