import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RefreshFailedEvent, TokenIssuedEvent } from '../../src/index.js';
import { createClock, createManager, startTokenServer, until, waitForIo } from '../helpers/token-fixtures.js';

const minute = 60_000;

describe('outage soak', () => {
  it('serves a 15-minute token through a 10-minute token-server outage, backs off with jitter, and recovers on the first good answer', async (t) => {
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

    // A busy service: a call every second for ten minutes.
    let failedCalls = 0;
    let calls = 0;
    while (clock.now() < outageStart + 10 * minute) {
      await clock.advance(1_000);
      await waitForIo(3);
      calls++;
      try {
        assert.equal((await tokens.getToken()).accessToken, cached.accessToken);
      } catch {
        failedCalls++;
      }
    }
    assert.equal(failedCalls, 0, `${failedCalls} of ${calls} calls failed`);
    assert.equal(calls, 600);

    const delays = failures.map((f) => f.nextDelayMs);
    assert.ok(delays.length >= 10, `${delays.length} failed attempts`);
    assert.ok(delays.length < 60, `backoff kept the attempts down to ${delays.length} in ten minutes`);
    // Grows: the first delays double (within their jitter band) until the cap...
    for (let i = 1; i < 5; i++) assert.ok(delays[i]! > delays[i - 1]! * 0.9, `delay ${i} grows: ${delays.join(', ')}`);
    // ...and keeps growing across retry loops instead of starting over at minTimeoutMs.
    assert.ok(delays.slice(6).every((d) => d >= 15_000), `no restart from the shortest delay: ${delays.join(', ')}`);
    // Jittered: at the cap the delays still differ.
    const capped = delays.filter((d) => d >= 15_000);
    assert.ok(new Set(capped).size > capped.length / 2, `capped delays are spread: ${capped.join(', ')}`);
    assert.equal(issued.length, 1);

    // The token server comes back: the next attempt succeeds and the new token is served.
    server.clearFaults();
    const requestsBefore = server.tokenRequestCount;
    for (let i = 0; i < 40 && issued.length < 2; i++) {
      await clock.advance(1_000);
      await waitForIo(3);
    }
    await until(() => issued.length === 2);
    assert.equal(server.tokenRequestCount, requestsBefore + 1, 'recovered on the first successful answer');
    assert.notEqual((await tokens.getToken()).accessToken, cached.accessToken);
    assert.equal(tokens.stats().callersWaited, 1);
  });
});
