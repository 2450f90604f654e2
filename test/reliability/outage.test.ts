import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { AccessToken, RefreshFailedEvent, TokenIssuedEvent } from '../../src/index.js';
import { createClock, createManager, requestsSettled, startTokenServer } from '../helpers/token-fixtures.js';

const minute = 60_000;

/**
 * A 15-minute token and a 10-minute token-server outage (503), walked through with a call every
 * second as a busy service makes them. Resolves when the outage is over, before the server is back.
 */
async function runOutage(t: TestContext) {
  const clock = createClock();
  const server = await startTokenServer(t, { clock, tokenLifetimeSec: 15 * 60 });
  // Refresh 12 minutes before expiry, so that the refresh starts 3 minutes in and the whole
  // outage falls in the window where the cached token must carry the service.
  const tokens = createManager(t, server, {
    clock,
    refreshBeforeExpiryMs: 12 * minute,
    retry: { retries: 5, minTimeoutMs: 500, maxTimeoutMs: 30_000 },
  });
  const failures: RefreshFailedEvent[] = [];
  const issued: TokenIssuedEvent[] = [];
  tokens.on('refreshFailed', (e) => failures.push(e));
  tokens.on('tokenIssued', (e) => issued.push(e));

  const cached = await tokens.getToken();
  const outageStart = clock.now() + 2 * minute;
  await clock.advance(2 * minute);
  server.failNext(1_000_000, { type: 'error', status: 503 });

  const outcomes: PromiseSettledResult<AccessToken>[] = [];
  while (clock.now() < outageStart + 10 * minute) {
    await clock.advance(1_000);
    // An attempt the timers started has its answer before the next call.
    await requestsSettled(tokens);
    outcomes.push(...(await Promise.allSettled([tokens.getToken()])));
  }
  return { clock, server, tokens, cached, outcomes, delays: failures.map((f) => f.nextDelayMs), issued };
}

describe('outage soak', () => {
  it('serves a 15-minute token through a 10-minute token-server outage', async (t) => {
    const { tokens, cached, outcomes } = await runOutage(t);
    assert.equal(outcomes.length, 600);
    const failedCalls = outcomes.filter((o) => o.status === 'rejected').length;
    assert.equal(failedCalls, 0, `${failedCalls} of ${outcomes.length} calls failed`);
    assert.ok(outcomes.every((o) => o.status === 'fulfilled' && o.value.accessToken === cached.accessToken));
    assert.equal(tokens.stats().callersWaited, 1);
  });

  it('backs off with growing, jittered delays through a 10-minute outage', async (t) => {
    const { delays, issued } = await runOutage(t);
    assert.ok(delays.length >= 10, `${delays.length} failed attempts`);
    assert.ok(delays.length < 60, `backoff kept the attempts down to ${delays.length} in ten minutes`);
    // Grows: the first delays double (within their jitter band) until the cap...
    for (let i = 1; i < 5; i++) assert.ok(delays[i]! > delays[i - 1]! * 0.9, `delay ${i} grows: ${delays.join(', ')}`);
    // ...and keeps growing across retry loops instead of starting over at minTimeoutMs.
    assert.ok(
      delays.slice(6).every((d) => d >= 15_000),
      `no restart from the shortest delay: ${delays.join(', ')}`,
    );
    // Jittered: at the cap the delays still differ.
    const capped = delays.filter((d) => d >= 15_000);
    assert.ok(new Set(capped).size > capped.length / 2, `capped delays are spread: ${capped.join(', ')}`);
    assert.equal(issued.length, 1, 'no token during the outage');
  });

  it('recovers on the first good answer after a 10-minute outage', async (t) => {
    const { clock, server, tokens, cached, issued } = await runOutage(t);
    // The token server comes back: the next attempt succeeds and the new token is served.
    server.clearFaults();
    const requestsBefore = server.tokenRequestCount;
    for (let second = 0; second < 40 && issued.length < 2; second++) {
      await clock.advance(1_000);
      await requestsSettled(tokens);
    }
    assert.equal(issued.length, 2, 'a new token within 40 s of the server coming back');
    assert.equal(server.tokenRequestCount, requestsBefore + 1, 'recovered on the first successful answer');
    assert.notEqual((await tokens.getToken()).accessToken, cached.accessToken);
    assert.equal(tokens.stats().callersWaited, 1);
  });
});
