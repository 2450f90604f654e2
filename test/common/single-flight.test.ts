import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SingleFlight } from '../../src/common/single-flight.js';

describe('SingleFlight', () => {
  it('shares one pending request among callers and starts afresh once it settled', async () => {
    const flight = new SingleFlight<number>();
    let started = 0;
    const start = (): Promise<number> => Promise.resolve(++started);
    assert.deepEqual(await Promise.all([flight.run(start), flight.run(start), flight.run(start)]), [1, 1, 1]);
    assert.equal(flight.pending, undefined);
    assert.equal(await flight.run(start), 2);
  });

  it('shares a rejection, turns a synchronous throw into one, and forgets both', async () => {
    const flight = new SingleFlight<number>();
    const failing = (): Promise<number> => Promise.reject(new Error('down'));
    await Promise.all([
      assert.rejects(flight.run(failing), /down/),
      assert.rejects(
        flight.run(() => Promise.resolve(1)),
        /down/,
      ),
    ]);
    await assert.rejects(
      flight.run(() => {
        throw new RangeError('sync');
      }),
      RangeError,
    );
    assert.equal(await flight.run(() => Promise.resolve(3)), 3);
  });
});
