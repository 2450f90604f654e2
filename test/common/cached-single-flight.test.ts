import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedSingleFlight } from '../../src/common/cached-single-flight.js';

/** A start function whose requests the test settles by hand. */
function manualStarts<T>(): {
  start: () => Promise<T>;
  settle: { resolve: (v: T) => void; reject: (e: Error) => void }[];
} {
  const settle: { resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  const start = (): Promise<T> => new Promise<T>((resolve, reject) => settle.push({ resolve, reject }));
  return { start, settle };
}

describe('CachedSingleFlight', () => {
  it('shares one request among callers and keeps its value', async () => {
    const cache = new CachedSingleFlight<string>();
    const { start, settle } = manualStarts<string>();
    const both = Promise.all([cache.get(start), cache.get(start)]);
    settle[0]!.resolve('metadata');
    assert.deepEqual(await both, ['metadata', 'metadata']);
    assert.equal(await cache.get(start), 'metadata');
    assert.equal(settle.length, 1);
  });

  it('does not keep a failure: the next caller starts afresh', async () => {
    const cache = new CachedSingleFlight<string>();
    const { start, settle } = manualStarts<string>();
    const failing = cache.get(start);
    settle[0]!.reject(new Error('down'));
    await assert.rejects(failing, /down/);
    const next = cache.get(start);
    settle[1]!.resolve('found');
    assert.equal(await next, 'found');
  });

  for (const oldEnds of ['first', 'last'] as const) {
    it(`after forget(), neither joins nor keeps a request started before it (the old one ends ${oldEnds})`, async () => {
      const cache = new CachedSingleFlight<string>();
      const { start, settle } = manualStarts<string>();
      const old = cache.get(start);
      cache.forget();
      const fresh = cache.get(start);
      assert.equal(settle.length, 2, 'the caller after forget() starts its own request');
      const calls = { old: { settle: settle[0]!, answer: old }, fresh: { settle: settle[1]!, answer: fresh } };
      for (const which of oldEnds === 'first' ? (['old', 'fresh'] as const) : (['fresh', 'old'] as const)) {
        calls[which].settle.resolve(`${which} key`);
        assert.equal(await calls[which].answer, `${which} key`, 'who joined a request gets its answer');
      }
      assert.equal(await cache.get(start), 'fresh key');
      assert.equal(settle.length, 2);
    });
  }
});
