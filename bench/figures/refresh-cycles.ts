// Callers that wait on the network over many refresh cycles under steady calls. Only the
// very first call of a manager may wait (nothing is cached yet); after that, every refresh should
// happen in the background while callers keep getting the cached token.
//
// The manager runs on a ManualClock against the real MockTokenServer (real HTTP, in the server
// process). Time is fast-forwarded while the manager is idle, 5 s at a time with 5 getToken() calls
// at each step, and runs at real pace while a refresh is in flight, with calls made continuously:
// a refresh takes as long on the manager's clock as it does on the wall clock.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ManualClock } from '../../src/testing/index.js';
import { createTokenManager } from '../clients.js';
import type { Figure } from '../lib/figure.js';
import { summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerProcess } from '../server/server-process.js';

/** A short lifetime keeps the number of idle steps per cycle small; the margin is the default 60 s. */
const tokenLifetimeSec = 300;
const idleStepMs = 5_000;
const callsPerStep = 5;

export async function refreshCycles(servers: ServerProcess, plan: Plan): Promise<Figure[]> {
  await servers.setTokenLifetime(tokenLifetimeSec);
  const clock = new ManualClock();
  const tokens = createTokenManager(servers, { clock });
  let calls = 0;
  try {
    await tokens.getToken();
    calls++;
    let lastStep = performance.now();
    for (;;) {
      const stats = tokens.stats();
      const refreshesDone = stats.tokensIssued - 1;
      if (refreshesDone >= plan.refreshCycles) break;
      const refreshing = stats.backgroundRefreshes > refreshesDone;
      const now = performance.now();
      if (refreshing) {
        await nextTurn();
        await clock.advance(now - lastStep);
      } else {
        await clock.advance(idleStepMs);
      }
      lastStep = now;
      // The token server issues tokens on this clock too: a JWT's exp bounds a token's expiry.
      await servers.setClockOffset(clock.now() - Date.now());
      await Promise.all(Array.from({ length: callsPerStep }, () => tokens.getToken()));
      calls += callsPerStep;
    }
    const stats = tokens.stats();
    const waited = stats.callersWaited - 1;
    return [
      {
        id: 'refresh-cycles.waiting-callers',
        title: `callers that waited on the network in ${plan.refreshCycles.toLocaleString('en-US')} refresh cycles`,
        unit: 'calls',
        ours: summarize([waited]),
        rounds: 1,
        goal: '0',
        met: waited === 0,
        note:
          `${calls.toLocaleString('en-US')} getToken() calls; ${stats.tokenRequests} token requests, ${stats.failedTokenRequests} failed; ` +
          `${tokenLifetimeSec} s tokens on a ManualClock, real HTTP`,
      },
    ];
  } finally {
    tokens.close();
    await servers.setClockOffset(0);
    await servers.setTokenLifetime(3600);
  }
}
