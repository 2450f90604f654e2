// The figures of the one-process soak, and the goal each is held to. What each counts exactly is
// defined in tally.ts; docs/performance.md ("Reliability") says the same in prose.
import type { Figure } from '../lib/figure.js';
import { summarize } from '../lib/stats.js';
import type { ProcessSoakResult } from './process-soak.js';

const megabyte = 1024 * 1024;

export function processSoakFigures(result: ProcessSoakResult, days: number): Figure[] {
  const { tally, maxWaitMs } = result;
  const one = (value: number): Figure['ours'] => summarize([value]);
  const minimum = tally.minimum.total();
  const ratio = tally.tokenRequests / minimum;
  const heapGrowthMb = (result.heapAfter - result.heapBefore) / megabyte;
  const faults = [...tally.faults].map(([kind, count]) => `${kind} ${count}`).join(', ');
  const span = `${days} simulated day${days === 1 ? '' : 's'}`;
  return [
    {
      // Figure 1. A call that failed while a usable token was cached, or while the token server was
      // healthy for it at some moment of its wait (tally.ts, `healthy`: no fault queued or hanging,
      // and the backoff the SDK documents after the last fault it met has passed).
      id: 'soak.avoidable-failures',
      title: `failed getToken() calls while a valid token could have been held, ${span}`,
      unit: 'calls',
      ours: one(tally.avoidableFailures),
      rounds: 1,
      goal: '0',
      met: tally.avoidableFailures === 0,
      note:
        `${tally.failedCalls.toLocaleString('en-US')} of ${tally.calls.toLocaleString('en-US')} calls failed, each inside a fault ` +
        `or the backoff it allows (${tally.failuresWithinBackoff} of them when the server answered again, within that backoff); faults: ${faults}`,
    },
    {
      // Figure 2. A call that did not resolve from the cache (it took more than two promise jobs)
      // while the token the manager last announced (`tokenIssued`) for its scope set was unexpired
      // and not dropped by `invalidate()`.
      id: 'soak.needless-waits',
      title: 'callers that waited on the network while a usable token was cached',
      unit: 'calls',
      ours: one(tally.waitedWithTokenCached),
      rounds: 1,
      goal: '0',
      met: tally.waitedWithTokenCached === 0,
      note: `${tally.rotatedOutTokensServed.toLocaleString('en-US')} tokens served were refused by the resource server after a signing-key rotation, then invalidated and asked for again (with no token cached, that call waits)`,
    },
    {
      // Figure 3. Token requests the token server received, over the fewest the run allows
      // (minimum-requests.ts: a token per token lifetime per scope set in use, plus every
      // request a fault forces).
      id: 'soak.token-requests',
      title: 'token requests against the minimum the faults allow',
      unit: '×',
      ours: one(ratio),
      rounds: 1,
      goal: '≤ 1.1',
      met: ratio <= 1.1,
      note: `${tally.tokenRequests.toLocaleString('en-US')} requests, minimum ${Math.round(minimum).toLocaleString('en-US')} (of which ${tally.minimum.faultAnswers.toLocaleString('en-US')} fault answers and ${tally.minimum.secretRotationRefusals} refusals of a rotated secret)`,
    },
    {
      // Figure 4. The longest time from a getToken() call to its answer, on the run's clock.
      id: 'soak.longest-wait',
      title: 'longest wait of any caller',
      unit: 'ms',
      ours: one(tally.longestWaitMs),
      rounds: 1,
      goal: `≤ maxWaitMs (${maxWaitMs.toLocaleString('en-US')})`,
      met: tally.longestWaitMs <= maxWaitMs,
    },
    {
      // Figure 5. Heap in use after full GCs at the end of the run, less the same after the warm-up.
      id: 'soak.heap-growth',
      title: 'heap growth from the end of the warm-up (a tenth of the run) to its end, after GC',
      unit: 'MB',
      ours: one(heapGrowthMb),
      rounds: 1,
      goal: '< 5 MB',
      met: heapGrowthMb < 5,
      note: `${(result.heapBefore / megabyte).toFixed(1)} MB → ${(result.heapAfter / megabyte).toFixed(1)} MB; the token server runs in a worker thread, outside this heap`,
    },
    {
      // Not one of the figures, but what the others rest on: a token handed out is valid.
      id: 'soak.expired-tokens',
      title: "tokens handed out after their exp, on the token server's clock",
      unit: 'tokens',
      ours: one(tally.expiredTokensServed),
      rounds: 1,
      goal: '0',
      met: tally.expiredTokensServed === 0,
    },
  ];
}
