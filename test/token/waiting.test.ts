import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenError, type TokenManager } from '../../src/index.js';
import type { ManualClock } from '../../src/testing/index.js';
import { createClock, createManager, requestsSettled, startTokenServer, until } from '../helpers/token-fixtures.js';

/** Tracks a promise's outcome without awaiting it. */
function track<T>(promise: Promise<T>): {
  readonly settled: () => boolean;
  readonly error: () => unknown;
  readonly value: () => T | undefined;
} {
  let outcome: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  return { settled: () => outcome !== undefined, error: () => outcome?.error, value: () => outcome?.value };
}

/** Advances `clock` in steps of `stepMs` up to `totalMs`, letting the loopback requests finish at each step. */
async function advanceInSteps(clock: ManualClock, tokens: TokenManager, totalMs: number, stepMs = 500): Promise<void> {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    await requestsSettled(tokens);
    await clock.advance(Math.min(stepMs, totalMs - elapsed));
  }
  await requestsSettled(tokens);
}

describe('how long a caller waits', () => {
  const throttled: ReadonlyArray<[string, number, number]> = [
    ['503 with Retry-After: 30', 503, 30],
    ['429 with Retry-After: 120', 429, 120],
  ];
  for (const [what, status, retryAfter] of throttled) {
    it(`rejects the first caller within maxWaitMs (10 s) under ${what}, while the retries go on`, async (t) => {
      const clock = createClock();
      const server = await startTokenServer(t, { clock });
      server.failNext(3, { type: 'error', status, retryAfter });
      const tokens = createManager(t, server, { clock });
      const first = track(tokens.getToken());
      await advanceInSteps(clock, tokens, 9_500);
      assert.equal(first.settled(), false, 'still waiting at 9.5 s');
      await advanceInSteps(clock, tokens, 500);
      assert.ok(first.error() instanceof TokenError, 'rejected at 10 s');
      assert.equal((first.error() as TokenError).status, status, 'with the latest error');
      await advanceInSteps(clock, tokens, 4 * retryAfter * 1000, 5_000);
      assert.equal(server.tokenRequestCount, 4, 'the retries went on in the background');
      assert.equal((await tokens.getToken()).tokenType, 'Bearer');
    });
  }

  it('rejects a caller with a timeout after maxWaitMs while the token server hangs', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(1, { type: 'hang' });
    const tokens = createManager(t, server, { clock, maxWaitMs: 2_000 });
    const waiting = track(tokens.getToken());
    await until(() => server.tokenRequestCount === 1);
    await clock.advance(1_999);
    assert.equal(waiting.settled(), false);
    await clock.advance(1);
    await until(waiting.settled);
    assert.equal((waiting.error() as TokenError).code, 'timeout');
  });

  it('ends the wait sooner when the caller signal aborts first', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(1, { type: 'hang' });
    const tokens = createManager(t, server, { clock });
    const controller = new AbortController();
    const waiting = track(tokens.getToken({ signal: controller.signal }));
    controller.abort();
    await until(waiting.settled);
    assert.equal((waiting.error() as TokenError).code, 'aborted');
  });

  it('sends no token request for a caller whose signal has already aborted', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await assert.rejects(tokens.getToken({ signal: AbortSignal.abort() }), (err: TokenError) => err.code === 'aborted');
    assert.equal(server.tokenRequestCount, 0);
  });

  it('rejects, rather than throws, for a signal that is null', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    let result: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      result = tokens.getToken({ signal: null as unknown as AbortSignal });
    });
    await assert.rejects(result!, (err: TokenError) => err.code === 'config' && /signal/.test(err.message));
  });

  it('rejects an unknown getToken option by name', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await assert.rejects(
      tokens.getToken({ scope: ['orders.read'] } as never),
      (err: TokenError) =>
        err.code === 'config' && /unknown getToken option "scope"; did you mean "scopes"\?/.test(err.message),
    );
  });
});
