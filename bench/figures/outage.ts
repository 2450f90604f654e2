// Calls that fail while the token server is down for 10 s and a valid token is cached,
// in the worst place for the outage to fall: after the token is due for refresh, so both clients
// try to refresh during it.
//
// The outage is made of MockTokenServer faults (every token request answers HTTP 503) rather than 10 s
// of waiting, and the same 1,000 calls are made during it, 50 at a time:
// - Ours runs on a ManualClock: the clock is moved to the token's refresh time, then 0.5 s forward
//   after each batch of 50 calls, so the calls span 10 s of the manager's time and its background
//   retries fall due (and fail) at the times they would in a real outage.
// - The do-it-yourself peer reads Date.now() itself, so it cannot be given a clock. It is given a token
//   with 45 s to live instead: inside its 60 s refresh window, valid for the whole outage. What it does
//   on each call depends only on those two facts, which hold throughout a real 10 s outage too, so
//   making its calls back to back is equivalent.
import { ManualClock } from '../../src/testing/index.js';
import { channelCredentialsClient, createTokenManager, diyClient, type BenchClient } from '../clients.js';
import { unaryCall } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { alternate } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerProcess } from '../server/server-process.js';

const outageMs = 10_000;
const outageCalls = 1_000;
const serviceUnavailable = { type: 'error', status: 503 } as const;
/** More faults than any client sends during the outage; cleared when it ends. */
const faultBudget = 100_000;

interface OutageResult {
  readonly failedCalls: number;
  readonly tokenRequests: number;
}

/** How a client's time moves during the outage: once it has begun, and after each batch of calls. */
interface Timeline {
  readonly atStart: () => Promise<void>;
  readonly afterBatch: () => Promise<void>;
}

/** Starts the outage and makes its calls in batches of `concurrency`, moving time along `timeline`. */
async function callsDuringOutage(
  servers: ServerProcess,
  bench: BenchClient,
  concurrency: number,
  timeline: Timeline,
): Promise<OutageResult> {
  const before = await servers.tokenRequestCount();
  await servers.failNext(faultBudget, serviceUnavailable);
  let failedCalls = 0;
  try {
    await timeline.atStart();
    for (let made = 0; made < outageCalls; made += concurrency) {
      const errors = await Promise.all(
        Array.from({ length: Math.min(concurrency, outageCalls - made) }, () => unaryCall(bench)),
      );
      failedCalls += errors.filter((error) => error !== undefined).length;
      await timeline.afterBatch();
    }
  } finally {
    await servers.clearFaults();
  }
  return { failedCalls, tokenRequests: (await servers.tokenRequestCount()) - before };
}

async function ours(servers: ServerProcess, plan: Plan): Promise<OutageResult> {
  const clock = new ManualClock();
  const tokens = createTokenManager(servers, { clock });
  const bench = channelCredentialsClient(servers, tokens);
  try {
    if ((await unaryCall(bench)) !== undefined) throw new Error('outage: the first call failed');
    const refreshAt = clock.nextTimerAt();
    if (refreshAt === undefined) throw new Error('outage: the manager set no refresh timer');
    const batches = Math.ceil(outageCalls / plan.concurrency);
    // The outage begins as the token falls due for refresh (its timer fires into the outage), and the
    // batches then spread over the next 10 s.
    return await callsDuringOutage(servers, bench, plan.concurrency, {
      atStart: () => clock.advance(refreshAt - clock.now()),
      afterBatch: () => clock.advance(outageMs / batches),
    });
  } finally {
    bench.client.close();
    tokens.close();
  }
}

async function diy(servers: ServerProcess, plan: Plan): Promise<OutageResult> {
  await servers.setTokenLifetime(45);
  const bench = diyClient(servers);
  try {
    if ((await unaryCall(bench)) !== undefined) throw new Error('outage: the first call failed');
    const timeStandsStill = (): Promise<void> => Promise.resolve();
    return await callsDuringOutage(servers, bench, plan.concurrency, {
      atStart: timeStandsStill,
      afterBatch: timeStandsStill,
    });
  } finally {
    await servers.setTokenLifetime(3600);
    bench.client.close();
  }
}

export async function outage(servers: ServerProcess, plan: Plan): Promise<Figure[]> {
  const runs = await alternate(plan.peerRounds, { ours: () => ours(servers, plan), diy: () => diy(servers, plan) });
  const failed = (results: OutageResult[]): number[] => results.map((r) => r.failedCalls);
  const requests = (results: OutageResult[]): number[] => results.map((r) => r.tokenRequests);
  const oursFailed = summarize(failed(runs.ours));
  return [
    {
      id: 'outage.failed-calls',
      title: `failed calls of ${outageCalls.toLocaleString('en-US')} during a 10 s token-server outage, token cached`,
      unit: 'calls',
      ours: oursFailed,
      reference: { label: 'diy', value: summarize(failed(runs.diy)) },
      rounds: plan.peerRounds,
      goal: 'ours: 0',
      met: oursFailed.max === 0,
      note: 'every token request answers 503 during the outage; the token is due for refresh and valid throughout (see outage.ts)',
    },
    {
      id: 'outage.token-requests',
      title: 'token requests sent during that outage',
      unit: 'requests',
      ours: summarize(requests(runs.ours)),
      reference: { label: 'diy', value: summarize(requests(runs.diy)) },
      rounds: plan.peerRounds,
      note: 'ours: background retries with jittered backoff; the peer: one request per call',
    },
  ];
}
