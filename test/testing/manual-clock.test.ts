import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/testing/index.js';

const start = Date.parse('2030-01-01T00:00:00Z');

describe('ManualClock refuses to move time back or to nowhere', () => {
  for (const step of [-1000, -Number.MIN_VALUE, NaN, Infinity, -Infinity]) {
    test(`advance(${step}) rejects with a RangeError and leaves now() unchanged`, async () => {
      const clock = new ManualClock(start);
      let fired = false;
      clock.setTimeout(() => (fired = true), 10);
      await assert.rejects(clock.advance(step), (err: unknown) => {
        assert.ok(err instanceof RangeError);
        assert.match(err.message, /ManualClock\.advance: ms must be a finite number >= 0/);
        return true;
      });
      assert.equal(clock.now(), start);
      assert.equal(clock.monotonicNow(), start);
      assert.equal(fired, false);
      assert.equal(clock.pendingTimers, 1);
    });
  }

  test('advance("1000") (a string from an env var) rejects with a RangeError and leaves now() unchanged', async () => {
    const clock = new ManualClock(start);
    await assert.rejects(clock.advance('1000' as unknown as number), RangeError);
    assert.equal(clock.now(), start);
  });

  for (const step of [NaN, Infinity, -Infinity]) {
    test(`stepWallClock(${step}) throws a RangeError and leaves now() unchanged`, () => {
      const clock = new ManualClock(start);
      assert.throws(() => clock.stepWallClock(step), /ManualClock\.stepWallClock: deltaMs must be a finite number/);
      assert.equal(clock.now(), start);
    });
  }

  test('stepWallClock(-1000) still steps the wall clock back, as an NTP correction does; monotonic time stays', () => {
    const clock = new ManualClock(start);
    clock.stepWallClock(-1000);
    assert.equal(clock.now(), start - 1000);
    assert.equal(clock.monotonicNow(), start);
  });

  test('advance(0) and a forward step still fire what falls due', async () => {
    const clock = new ManualClock(start);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 0);
    clock.setTimeout(() => fired.push(clock.now()), 500);
    await clock.advance(0);
    assert.deepEqual(fired, [start]);
    await clock.advance(1000);
    assert.deepEqual(fired, [start, start + 500]);
    assert.equal(clock.now(), start + 1000);
  });

  test('a timer set with a NaN delay fires on the next advance, as Node fires it at once, and runNext() reaches it', async () => {
    const clock = new ManualClock(start);
    let fired = false;
    clock.setTimeout(() => (fired = true), NaN);
    assert.equal(clock.nextTimerAt(), start);
    assert.equal(await clock.runNext(), true);
    assert.equal(fired, true);
    assert.equal(clock.now(), start);
  });
});
