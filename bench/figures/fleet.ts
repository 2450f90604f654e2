// A fleet of managers started in the same second with the same token lifetime. Without a
// spread, every one of them would refresh in the same second, cycle after cycle; DESIGN.md moves each
// refresh earlier by a random 0–6 s (10% of the 60 s margin), and the draws add up over the cycles.
//
// Each manager gets its own ManualClock, all starting within the same second, and a fake token source
// that answers at once and records when it was asked. The managers share nothing, so separate clocks
// are equivalent to one shared clock; they are used because ManualClock finds its next timer by
// scanning all of them, which makes 10,000 timers on one clock quadratic.
import { ManualClock } from '../../src/testing/index.js';
import { TokenManager, type TokenSource } from '../../src/index.js';
import type { Figure } from '../lib/figure.js';
import { summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';

const startMs = Date.parse('2030-01-01T00:00:00Z');
const tokenLifetimeMs = 3_600_000;
const windowMs = 1_000;

/** When each manager sent each of its refresh requests: `times[k][i]` is manager i's refresh k+1. */
async function simulateFleet(managers: number, refreshes: number): Promise<number[][]> {
  const times: number[][] = Array.from({ length: refreshes }, () => []);
  for (let i = 0; i < managers; i++) {
    const clock = new ManualClock(startMs + (i / managers) * windowMs);
    const requests: number[] = [];
    const tokenSource: TokenSource = {
      endpoint: 'fleet-fake',
      fetchToken: () => {
        requests.push(clock.now());
        return Promise.resolve({
          accessToken: `token-${i}-${requests.length}`,
          expiresAt: new Date(clock.now() + tokenLifetimeMs),
        });
      },
    };
    const tokens = new TokenManager({ tokenSource, clock });
    try {
      await tokens.getToken();
      for (let k = 0; k < refreshes; k++) {
        // In use since the last refresh, so that the refresh timer refreshes instead of letting it expire.
        await tokens.getToken();
        await clock.runNext();
      }
    } finally {
      tokens.close();
    }
    if (requests.length !== refreshes + 1)
      throw new Error(`fleet: manager ${i} sent ${requests.length} requests, expected ${refreshes + 1}`);
    requests.slice(1).forEach((time, k) => times[k]!.push(time));
  }
  return times;
}

/** The largest fraction of `times` inside any window of `windowMs` (a sliding window, not fixed buckets). */
export function largestShareInWindow(times: readonly number[], width: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let largest = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= width) first++;
    largest = Math.max(largest, last - first + 1);
  }
  return largest / sorted.length;
}

/** Runs `fn` with Math.random() fixed at 0: the refresh spread of DESIGN.md is then zero. */
async function withoutSpread<T>(fn: () => Promise<T>): Promise<T> {
  const random = Math.random;
  Math.random = () => 0;
  try {
    return await fn();
  } finally {
    Math.random = random;
  }
}

export async function fleet(plan: Plan): Promise<Figure[]> {
  const first: number[] = [];
  const last: number[] = [];
  for (let round = 0; round < plan.fleetRounds; round++) {
    const times = await simulateFleet(plan.fleetManagers, plan.fleetRefreshes);
    first.push(100 * largestShareInWindow(times[0]!, windowMs));
    last.push(100 * largestShareInWindow(times[plan.fleetRefreshes - 1]!, windowMs));
  }
  // The same fleet with no spread, to show what the spread is measured against.
  const unspread = await withoutSpread(() => simulateFleet(Math.min(plan.fleetManagers, 1_000), plan.fleetRefreshes));
  const reference = (k: number) => ({
    label: 'no spread',
    value: summarize([100 * largestShareInWindow(unspread[k]!, windowMs)]),
  });
  const managers = plan.fleetManagers.toLocaleString('en-US');
  const note = `${managers} managers started within one second, 1 h tokens, 60 s margin; sliding 1 s window`;
  const firstShare = summarize(first);
  const lastShare = summarize(last);
  return [
    {
      id: 'fleet.first-refresh',
      title: `fleet of ${managers}: largest share of refreshes in one second, 1st refresh`,
      unit: '%',
      ours: firstShare,
      reference: reference(0),
      rounds: plan.fleetRounds,
      goal: '≤ 20%',
      met: firstShare.max <= 20,
      note,
    },
    {
      id: 'fleet.tenth-refresh',
      title: `fleet of ${managers}: largest share of refreshes in one second, ${plan.fleetRefreshes}th refresh`,
      unit: '%',
      ours: lastShare,
      reference: reference(plan.fleetRefreshes - 1),
      rounds: plan.fleetRounds,
      goal: '≤ 8%',
      met: lastShare.max <= 8,
      note,
    },
  ];
}
