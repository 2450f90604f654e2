import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenError, type FatalFailureEvent } from '../../src/index.js';
import type { ManualClock, MockTokenServer, TokenServerFault } from '../../src/testing/index.js';
import type { TokenManager } from '../../src/index.js';
import { createClock, createManager, requestsSettled, startTokenServer } from '../helpers/token-fixtures.js';

const minuteMs = 60_000;

/** A getToken() outcome, once the requests it started are over. */
async function outcome(tokens: TokenManager): Promise<'token' | TokenError> {
  const result = tokens.getToken().then(
    () => 'token' as const,
    (err: unknown) => err as TokenError,
  );
  await requestsSettled(tokens);
  return result;
}

/** Calls getToken() `calls` times spread evenly over `spanMs` of clock time. */
async function callsOver(clock: ManualClock, tokens: TokenManager, calls: number, spanMs: number): Promise<void> {
  for (let i = 0; i < calls; i++) {
    tokens.getToken().catch(() => undefined);
    await clock.advance(spanMs / calls);
    await requestsSettled(tokens);
  }
}

const nonRetryable: ReadonlyArray<[string, TokenServerFault]> = [
  ['invalid_client', { type: 'error', status: 401, error: 'invalid_client' }],
  ['invalid_scope', { type: 'error', status: 400, error: 'invalid_scope' }],
  ['a proxy 403 page', { type: 'html', status: 403 }],
  ['a proxy 404 page', { type: 'html', status: 404 }],
  ['a 302 redirect', { type: 'body', status: 302, body: '', headers: { location: 'https://elsewhere.example/' } }],
];

describe('fatal failures', () => {
  for (const [what, fault] of nonRetryable) {
    it(`recovers from one ${what} once the server is fixed, with at most 2 requests for 1,000 calls in the first minute`, async (t) => {
      const clock = createClock();
      const server = await startTokenServer(t, { clock });
      server.failNext(1, fault);
      const tokens = createManager(t, server, { clock });
      const first = await outcome(tokens);
      assert.ok(first instanceof TokenError && !first.retryable, `first call fails fatally: ${String(first)}`);
      await callsOver(clock, tokens, 1_000, minuteMs);
      assert.ok(server.tokenRequestCount <= 2, `${server.tokenRequestCount} requests in the first minute`);
      let recovered = false;
      for (let minute = 1; minute <= 15 && !recovered; minute++) {
        await clock.advance(minuteMs);
        recovered = (await outcome(tokens)) === 'token';
      }
      assert.ok(recovered, 'getToken() succeeds again within 15 min');
    });
  }

  it('remembers a recurring fatal failure for a minute, then two, then four, up to fifteen', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(100, { type: 'error', status: 401, error: 'invalid_client' });
    const tokens = createManager(t, server, { clock });
    const delays: number[] = [];
    tokens.on('fatalFailure', (e: FatalFailureEvent) => delays.push(e.nextDelayMs));
    for (let i = 0; i < 7; i++) {
      await outcome(tokens);
      await clock.advance(delays.at(-1) ?? 0);
    }
    for (const [i, cap] of [1, 2, 4, 8, 15, 15, 15].entries()) {
      assert.ok(delays[i]! >= cap * minuteMs * 0.9 && delays[i]! <= cap * minuteMs, `delay ${i}: ${delays[i]} ms`);
    }
    assert.equal(server.tokenRequestCount, 7);
  });

  it('forgets a fatal failure at once on invalidate()', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(1, { type: 'error', status: 400, error: 'invalid_scope' });
    const tokens = createManager(t, server, { clock });
    assert.ok((await outcome(tokens)) instanceof TokenError);
    tokens.invalidate();
    assert.equal(await outcome(tokens), 'token');
  });

  it('keeps serving a valid token when a background refresh fails fatally, and recovers after it expires', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, { clock });
    assert.equal(await outcome(tokens), 'token');
    server.failNext(1, { type: 'error', status: 401, error: 'invalid_client' });
    await clock.advance(541_000); // past the refresh time (60 s before expiry, less the spread)
    assert.equal(await outcome(tokens), 'token', 'the cached token is still served');
    await requestsSettled(tokens);
    await clock.advance(60_000); // the token has expired; the fatal failure's minute is over
    await requestsSettled(tokens);
    assert.equal(await outcome(tokens), 'token', 'a token again after the server was fixed');
    assert.ok(server.tokenRequestCount <= 4, `${server.tokenRequestCount} requests`);
  });

  it('configures the fatal waits through retry.fatalMinTimeoutMs and retry.fatalMaxTimeoutMs', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(1, { type: 'error', status: 401, error: 'invalid_client' });
    const tokens = createManager(t, server, { clock, retry: { fatalMinTimeoutMs: 5_000, fatalMaxTimeoutMs: 10_000 } });
    assert.ok((await outcome(tokens)) instanceof TokenError);
    await clock.advance(5_000);
    assert.equal(await outcome(tokens), 'token');
  });
});

describe('one failing endpoint, many scope sets', () => {
  it('sends at most 100 requests in 8 s to a 503 endpoint asked for 1,000 scope sets', async (t) => {
    const clock = createClock();
    const server: MockTokenServer = await startTokenServer(t, { clock });
    server.failNext(10_000, { type: 'error', status: 503 });
    const tokens = createManager(t, server, { clock });
    const calls = Array.from({ length: 1_000 }, (_, i) =>
      tokens.getToken({ scopes: [`set${i}`] }).catch(() => undefined),
    );
    for (let elapsed = 0; elapsed < 8_000; elapsed += 100) {
      await requestsSettled(tokens);
      await clock.advance(100);
      for (let i = 0; i < 20; i++) tokens.getToken({ scopes: [`set${(elapsed + i) % 1000}`] }).catch(() => undefined);
    }
    await requestsSettled(tokens);
    assert.ok(server.tokenRequestCount <= 100, `${server.tokenRequestCount} requests`);
    t.diagnostic(`${server.tokenRequestCount} requests in 8 s`);
    // The callers of the first second gave up at maxWaitMs (10 s).
    for (let elapsed = 8_000; elapsed <= 10_000; elapsed += 100) {
      await clock.advance(100);
      await requestsSettled(tokens);
    }
    await Promise.all(calls);
    server.clearFaults();
    await clock.advance(60_000);
    await requestsSettled(tokens);
    assert.equal(await outcome(tokens), 'token', 'the endpoint is asked again once it recovers');
  });
});
