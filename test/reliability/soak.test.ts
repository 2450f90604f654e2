// A short run of the one-process soak (`npm run soak` runs 30 days): the same goals, over a few
// simulated days of random faults, with a fixed seed. The run is deterministic (a ManualClock, and
// requests let through one at a time in a fixed order; bench/soak/process-soak.ts), so a load on the
// machine slows it down but does not change it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { faultKinds } from '../../bench/soak/faults.js';
import { runProcessSoak } from '../../bench/soak/process-soak.js';

/** A seed whose first three days draw every kind of fault. */
const seed = 16;
const days = 3;

describe('one-process soak', () => {
  it(`meets every reliability goal through ${days} simulated days of random faults (seed ${seed})`, async (t) => {
    const result = await runProcessSoak({ seed, days });
    const { tally } = result;
    const ratio = tally.tokenRequests / tally.minimum.total();
    const heapGrowthMb = (result.heapAfter - result.heapBefore) / 2 ** 20;
    t.diagnostic(
      `${tally.calls} calls, ${tally.failedCalls} failed inside a fault; ${tally.tokenRequests} token requests, ` +
        `${ratio.toFixed(3)} × the minimum; longest wait ${tally.longestWaitMs} ms; heap ${heapGrowthMb.toFixed(2)} MB; ` +
        `${result.wallTimeSec.toFixed(1)} s`,
    );
    const why = tally.examples.join('\n');
    assert.deepEqual(
      faultKinds.filter((kind) => !tally.faults.has(kind)),
      [],
      'every kind of fault was drawn',
    );
    assert.equal(tally.avoidableFailures, 0, `failed calls while a valid token could have been held:\n${why}`);
    assert.equal(tally.waitedWithTokenCached, 0, `callers that waited while a usable token was cached:\n${why}`);
    assert.ok(ratio <= 1.1, `token requests ${ratio.toFixed(3)} × the minimum the faults allow`);
    assert.ok(tally.longestWaitMs <= result.maxWaitMs, `longest wait ${tally.longestWaitMs} ms`);
    assert.ok(heapGrowthMb < 5, `heap grew by ${heapGrowthMb.toFixed(2)} MB`);
    assert.equal(tally.expiredTokensServed, 0, 'tokens handed out after their exp');
  });

  it('runs the same way for the same seed, and another way for another', async () => {
    const first = await runProcessSoak({ seed: 7, days: 0.15 });
    const again = await runProcessSoak({ seed: 7, days: 0.15 });
    const other = await runProcessSoak({ seed: 8, days: 0.15 });
    assert.equal(again.digest, first.digest);
    assert.notEqual(other.digest, first.digest);
  });
});
