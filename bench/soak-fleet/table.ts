// The fleet soak's figures as rows of the bench's table (bench/lib/table.ts prints them).
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
      title: 'processes SIGKILLed (with a token request in flight)',
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
