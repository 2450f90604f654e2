// The fleet soak's figures: as rows of the bench's table (for bench/results.json), and printed as a
// compact Markdown table with what each figure is made of.
import type { Figure } from '../lib/figure.js';
import { summarize } from '../lib/stats.js';
import type { FleetSoakFigures } from './run.js';

const one = (value: number) => summarize([value]);

/** The figures as rows of the bench's table. */
export function tableOf(figures: FleetSoakFigures): Figure[] {
  const { requests, calls, faults, goals } = figures;
  const goal = (index: number) => goals[index] as { goal: string; met: boolean };
  const cause = (name: string) => requests.extras.filter((extra) => extra.cause === name).length;
  const windows = Object.entries(faults.tokenServerWindows)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  const failures = Object.entries(figures.cacheFailures)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  return [
    {
      id: 'soak-fleet.requests-per-cycle',
      title: 'token requests per refresh cycle, beyond Redis and token-server faults',
      unit: 'requests',
      ours: one(figures.requestsPerCycleBeyondFaults),
      rounds: 1,
      ...goal(0),
      note: `${requests.refreshCycles} cycles; extra requests: ${cause('kill')} kill, ${cause('unexplained')} unexplained`,
    },
    {
      id: 'soak-fleet.requests-per-cycle-all',
      title: 'token requests per refresh cycle, all',
      unit: 'requests',
      ours: one(figures.requestsPerCycle),
      rounds: 1,
      note: `${requests.counted} counted of ${requests.total} (${requests.refusedByFaults} refused by token-server faults); extra: ${cause('redis')} redis, ${cause('token-server')} token-server`,
    },
    {
      id: 'soak-fleet.failed-while-valid',
      title: 'failed getToken() calls while a valid token could have been held',
      unit: 'calls',
      ours: one(calls.failedWhileValidPossible),
      rounds: 1,
      ...goal(1),
      note: `${calls.failed} failed of ${calls.total}; ${calls.failedWithTokenCached} with a token cached`,
    },
    {
      id: 'soak-fleet.longest-wait',
      title: 'longest wait of a getToken() call',
      unit: 'ms',
      ours: one(calls.longestWaitMs),
      rounds: 1,
      ...goal(2),
    },
    {
      id: 'soak-fleet.crashed',
      title: 'member processes crashed',
      unit: 'processes',
      ours: one(figures.crashed),
      rounds: 1,
      ...goal(3),
    },
    {
      id: 'soak-fleet.kills',
      title: 'processes SIGKILLed',
      unit: 'kills',
      ours: one(faults.kills),
      rounds: 1,
      note: `${faults.killsMidRequest} with a request in flight; ${faults.replacements} replacements started`,
    },
    {
      id: 'soak-fleet.one-shots',
      title: 'one-shot processes (one token, then exit) served',
      unit: 'processes',
      ours: one(faults.oneShotsServed),
      rounds: 1,
      note: `of ${faults.oneShots}`,
    },
    {
      id: 'soak-fleet.redis-faults',
      title: 'Redis restarts, CLIENT PAUSEs, DEBUG SLEEPs',
      unit: 'faults',
      ours: one(faults.redisRestarts + faults.redisPauses + faults.redisSleeps),
      rounds: 1,
      note: `${faults.redisRestarts} restarts, ${faults.redisPauses} pauses, ${faults.redisSleeps} sleeps; sharedCacheFailed: ${failures || 'none'}`,
    },
    {
      id: 'soak-fleet.token-server-faults',
      title: 'token-server fault windows',
      unit: 'windows',
      ours: one(Object.values(faults.tokenServerWindows).reduce((sum, count) => sum + count, 0)),
      rounds: 1,
      note: windows || 'none',
    },
  ];
}

/**
 * A Markdown table of `rows` (figure, value, goal, met, what it is made of): the bench's own table
 * has columns for a reference and rounds, which a soak of one run has not.
 */
export function compactTable(rows: readonly Figure[]): string {
  const cells = [
    ['figure', 'value', 'goal', 'met', 'made of'],
    ...rows.map((row) => {
      const value = row.ours.median;
      const shown = Number.isInteger(value) || row.unit === 'ms' ? String(Math.round(value)) : value.toFixed(2);
      return [
        row.title,
        `${shown} ${row.unit}`,
        row.goal ?? '',
        row.met === undefined ? '' : row.met ? 'yes' : 'NO',
        row.note ?? '',
      ];
    }),
  ];
  return cells
    .map((line, i) => `| ${line.join(' | ')} |${i === 0 ? `\n|${' --- |'.repeat(line.length)}` : ''}`)
    .join('\n');
}
