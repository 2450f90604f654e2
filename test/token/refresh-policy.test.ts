import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenError, type SourcedToken, type TokenSource } from '../../src/index.js';
import { refreshAtMs } from '../../src/token/cache/refresh-time.js';
import { ScopeSetCycler } from '../../src/token/cache/scope-set-cycler.js';
import { StatsRecorder } from '../../src/token/cache/stats.js';
import { TokenFetcher } from '../../src/token/cache/token-fetcher.js';
import { resolveOptions } from '../../src/token/options.js';
import { ManualClock } from '../../src/testing/index.js';

const issued = 1_000_000;
const hourMs = 3_600_000;

/**
 * A scope set on a manual clock whose source answers from `answers` (a token living an hour, or a
 * thrown error), so that each rule can be read off the cycler's getters at a chosen moment.
 */
function scopeSet(answers: Array<TokenError | 'token'>) {
  const clock = new ManualClock(issued);
  let requests = 0;
  const source: TokenSource = {
    endpoint: 'test source',
    fetchToken: (): Promise<SourcedToken> => {
      const answer = answers[requests++] ?? 'token';
      if (answer !== 'token') return Promise.reject(answer);
      return Promise.resolve({ accessToken: `t${requests}`, expiresAt: new Date(clock.now() + hourMs) });
    },
  };
  const options = resolveOptions({ tokenSource: source, clock, retry: { retries: 0 } });
  const closeSignal = new AbortController().signal;
  const parts = { options, stats: new StatsRecorder(), emit: () => undefined, lifecycle: undefined, closeSignal };
  const fetcher = new TokenFetcher({ ...parts, source });
  const cycler = new ScopeSetCycler(
    'orders.read',
    { scopes: ['orders.read'] },
    {
      ...parts,
      fetcher,
      onIdle: () => undefined,
      onFatalFailureSeen: () => undefined,
    },
  );
  return { clock, cycler, requests: () => requests };
}

describe('refresh time', () => {
  it('is refreshBeforeExpiryMs before expiry, moved earlier by at most 10% of that margin', () => {
    const expires = issued + hourMs;
    assert.equal(
      refreshAtMs(issued, expires, 60_000, () => 0),
      expires - 60_000,
    );
    assert.equal(
      refreshAtMs(issued, expires, 60_000, () => 1),
      expires - 66_000,
    );
  });

  it('is half the lifetime for a token that lives shorter than the margin', () => {
    assert.equal(
      refreshAtMs(issued, issued + 30_000, 60_000, () => 0.5),
      issued + 15_000,
    );
    assert.equal(
      refreshAtMs(issued, issued + 2_000, 60_000, () => 0.5),
      issued + 1_000,
    );
  });
});

describe('refresh policy', () => {
  it('makes callers wait when nothing is cached and no failure is remembered', () => {
    const { cycler } = scopeSet([]);
    assert.equal(cycler.mustRefresh, true);
    assert.equal(cycler.isUsable, false);
  });

  it('serves a fresh token without refreshing', async () => {
    const { cycler, clock, requests } = scopeSet([]);
    const token = await cycler.getToken(undefined);
    await clock.advance(1);
    assert.equal(cycler.isUsable, true);
    assert.equal(cycler.shouldRefresh, false);
    assert.equal(cycler.mustRefresh, false);
    assert.equal(await cycler.getToken(undefined), token);
    assert.equal(requests(), 1);
  });

  it('refreshes in the background past the refresh time, while the token is still usable', async () => {
    const { cycler, clock, requests } = scopeSet([]);
    const first = await cycler.getToken(undefined);
    await clock.advance(hourMs - 66_001); // before the earliest refresh time (60 s margin + 10% spread)
    assert.equal(cycler.shouldRefresh, false);
    assert.equal(requests(), 1);
    // By the refresh time, the timer has applied rule 2 to this scope set in use: one background refresh.
    await clock.advance(6_001);
    assert.equal(requests(), 2);
    assert.equal(cycler.isUsable, true);
    assert.notEqual((await cycler.getToken(undefined)).accessToken, first.accessToken);
    assert.equal(cycler.shouldRefresh, false);
  });

  it('makes callers wait once the token has expired', async () => {
    const { cycler, clock } = scopeSet([]);
    await cycler.getToken(undefined);
    cycler.dispose(); // no timer refreshes it meanwhile
    await clock.advance(hourMs);
    assert.equal(cycler.mustRefresh, true);
  });

  it('answers with a remembered failure until its time is up, and knows a fatal one', async () => {
    const { cycler, clock, requests } = scopeSet([new TokenError('invalid_client', 'no')]);
    await assert.rejects(cycler.getToken(undefined), { code: 'invalid_client' });
    assert.equal(cycler.isBackingOff, true);
    assert.equal(cycler.isFatal, true);
    assert.equal(cycler.mustRefresh, false);
    await assert.rejects(cycler.getToken(undefined), { code: 'invalid_client' });
    assert.equal(requests(), 1, 'the remembered failure sent nothing');
    await clock.advance(60_000);
    assert.equal(cycler.isBackingOff, false);
    assert.equal(cycler.mustRefresh, true);
  });

  it('allows one forced refresh per scope set every 30 s', async () => {
    const { cycler, clock } = scopeSet([]);
    assert.equal(cycler.mayForceRefresh, true);
    const token = await cycler.getToken(undefined);
    assert.equal(cycler.invalidate(token.accessToken), true);
    const next = await cycler.getToken(undefined);
    await clock.advance(29_999);
    assert.equal(cycler.mayForceRefresh, false);
    assert.equal(cycler.invalidate(next.accessToken), false);
    await clock.advance(1);
    assert.equal(cycler.mayForceRefresh, true);
  });
});
