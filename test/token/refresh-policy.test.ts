import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessToken, TokenError } from '../../src/index.js';
import { createCacheEntry, type CacheEntry } from '../../src/token/cache-entry.js';
import {
  isBackingOff,
  isFatal,
  isUsable,
  mayForceRefresh,
  mustWait,
  refreshAtMs,
  shouldRefresh,
} from '../../src/token/refresh-policy.js';

const issued = 1_000_000;

function entryWith(fields: Partial<CacheEntry>): CacheEntry {
  return Object.assign(createCacheEntry('orders.read', { scopes: ['orders.read'] }), fields);
}

const token = new AccessToken('t', new Date(0), ['orders.read']);
const cached = { token, issuedAtMs: issued, expiresAtMs: issued + 3_600_000, refreshAtMs: issued + 3_540_000 };

describe('refresh time', () => {
  it('is refreshBeforeExpiryMs before expiry, moved earlier by at most 10% of that margin', () => {
    const expires = issued + 3_600_000;
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
    assert.equal(mustWait(entryWith({}), issued), true);
  });

  it('serves a fresh token without refreshing', () => {
    const entry = entryWith(cached);
    assert.equal(isUsable(entry, issued + 1), true);
    assert.equal(shouldRefresh(entry, issued + 1), false);
    assert.equal(mustWait(entry, issued + 1), false);
  });

  it('refreshes in the background past the refresh time, while the token is still usable', () => {
    const entry = entryWith(cached);
    assert.equal(shouldRefresh(entry, cached.refreshAtMs), true);
    assert.equal(shouldRefresh(entryWith({ ...cached, inflight: Promise.resolve(token) }), cached.refreshAtMs), false);
  });

  it('makes callers wait once the token has expired', () => {
    assert.equal(mustWait(entryWith(cached), cached.expiresAtMs), true);
  });

  it('answers with a remembered failure until its time is up, and knows a fatal one', () => {
    const failure = { error: new TokenError('invalid_client', 'no'), untilMs: issued + 60_000, fatal: true };
    const entry = entryWith({ failure });
    assert.equal(isBackingOff(entry, issued), true);
    assert.equal(isFatal(entry, issued), true);
    assert.equal(mustWait(entry, issued), false);
    assert.equal(isBackingOff(entry, issued + 60_000), false);
    assert.equal(mustWait(entry, issued + 60_000), true);
  });

  it('allows one forced refresh per scope set every 30 s', () => {
    const entry = entryWith({ forcedRefreshAtMs: issued });
    assert.equal(mayForceRefresh(entry, issued + 29_999), false);
    assert.equal(mayForceRefresh(entry, issued + 30_000), true);
    assert.equal(mayForceRefresh(entryWith({}), issued), true);
  });
});
