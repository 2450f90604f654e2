// `node --import tsx bench/soak-fleet/main.ts [--seed N] [--duration 180] [--processes 10] [--no-kills]`:
// the fleet soak of issue 19. Prints the seed, the table of figures and whether each goal was met,
// writes the figures to bench/results.json under `soakFleet`, and exits with 1 when a goal is missed.
import { readFile, writeFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runFleetSoak, type FleetSoakFigures } from './run.js';
import { compactTable, tableOf } from './table.js';

const usage = `Usage: node --import tsx bench/soak-fleet/main.ts [options]

A fleet of processes sharing a real redis-server, for a few minutes of real time, with process kills
(some mid-request), Redis restarts, CLIENT PAUSE and DEBUG SLEEP, token-server faults and one-shot
processes. The same seed gives the same fault schedule; the fleet runs on real time, so what happens
between the faults differs from run to run.

Options:
  --seed N          seed of the fault schedule (default: a random one, printed)
  --duration S      seconds of faults, after the fleet is up (default 180)
  --processes N     long-lived processes, 2 to 32 (default 10)
  --no-kills        kill no process (every other fault still comes)
  --help            this text`;

const resultsFile = new URL('../results.json', import.meta.url);

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        seed: { type: 'string' },
        duration: { type: 'string', default: '180' },
        processes: { type: 'string', default: '10' },
        'no-kills': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const whole = (text: string, name: string, min: number, max: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      console.error(`--${name} must be a whole number from ${min} to ${max}\n\n${usage}`);
      process.exit(2);
    }
    return value;
  };
  return {
    seed: values.seed === undefined ? randomInt(1, 2 ** 31) : whole(values.seed, 'seed', 0, 2 ** 32 - 1),
    durationMs: whole(values.duration, 'duration', 10, 3_600) * 1000,
    processes: whole(values.processes, 'processes', 2, 32),
    kills: !values['no-kills'],
  };
}

async function writeResults(figures: FleetSoakFigures): Promise<void> {
  let results: Record<string, unknown> = {};
  try {
    results = JSON.parse(await readFile(resultsFile, 'utf8')) as Record<string, unknown>;
  } catch {
    // No results yet, or unreadable: start afresh.
  }
  results.soakFleet = { ...figures, table: tableOf(figures), at: new Date().toISOString() };
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
}

const chosen = options();
const command = `node --import tsx bench/soak-fleet/main.ts --seed ${chosen.seed} --duration ${chosen.durationMs / 1000} --processes ${chosen.processes}${chosen.kills ? '' : ' --no-kills'}`;
console.log(
  `fleet soak, seed ${chosen.seed}: ${chosen.processes} processes, ${chosen.durationMs / 1000} s, kills ${chosen.kills ? 'on' : 'off'}`,
);
const stop = () => process.exit(130);
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
const figures = await runFleetSoak(chosen);
console.log(compactTable(tableOf(figures)));
await writeResults(figures);
console.log(`\nseed ${chosen.seed}; the same fault schedule again: ${command}`);
for (const goal of figures.goals) if (!goal.met) console.error(`goal missed: ${goal.figure} (${goal.goal})`);
process.exitCode = figures.met ? 0 : 1;
