import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultRetryOptions, fatalDelayMs, parseRetryAfterMs, retryDelayMs } from '../../src/token/cache/backoff.js';

const options = { ...defaultRetryOptions, retries: 5, minTimeoutMs: 200, maxTimeoutMs: 30_000 };

describe('retry delays', () => {
  it('grows exponentially from minTimeoutMs, with each delay between half and all of its step', () => {
    for (let retry = 0; retry < 5; retry++) {
      const step = 200 * 2 ** retry;
      assert.equal(
        retryDelayMs(retry, options, undefined, () => 0),
        step / 2,
      );
      assert.equal(
        retryDelayMs(retry, options, undefined, () => 0.999999),
        step,
      );
    }
  });

  it('keeps delays spread once the cap is reached, unlike p-retry whose random factor comes before the cap', () => {
    const atCap = [0, 0.25, 0.5, 0.75, 0.99].map((r) => retryDelayMs(20, options, undefined, () => r));
    assert.equal(new Set(atCap).size, atCap.length, 'every random draw gives a different delay at the cap');
    for (const delay of atCap) assert.ok(delay >= 15_000 && delay <= 30_000, `${delay} within [max/2, max]`);
  });

  it('never retries before Retry-After, and jitters above it', () => {
    const delays = [0, 0.5, 0.99].map((r) => retryDelayMs(0, options, 5_000, () => r));
    for (const delay of delays) assert.ok(delay >= 5_000 && delay <= 30_000);
    assert.ok(new Set(delays).size > 1);
  });

  it('caps Retry-After at maxTimeoutMs, still spread below the cap', () => {
    const delays = [0, 0.5, 0.99].map((r) => retryDelayMs(0, options, 3_600_000, () => r));
    for (const delay of delays) assert.ok(delay >= 27_000 && delay <= 30_000, String(delay));
    assert.ok(new Set(delays).size > 1);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs('7', now), 7_000);
    assert.equal(parseRetryAfterMs('Tue, 01 Jan 2030 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfterMs('soon', now), undefined);
    assert.equal(parseRetryAfterMs(null, now), undefined);
  });
});

describe('fatal failure delays', () => {
  it('starts at a minute and doubles up to fifteen minutes, less at most a tenth at random', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((streak) => fatalDelayMs(streak, defaultRetryOptions, () => 1));
    assert.deepEqual(delays, [60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
    assert.equal(
      fatalDelayMs(1, defaultRetryOptions, () => 0),
      54_000,
    );
  });
});
