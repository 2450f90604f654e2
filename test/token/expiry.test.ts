import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenError, TokenManager } from '../../src/index.js';
import { clientId, clientSecret, createClock } from '../helpers/token-fixtures.js';
import { httpDate, jwtExpiringAt, startRawTokenServer, type RawAnswer } from '../helpers/raw-token-server.js';
import type { TestContext } from 'node:test';
import type { ManualClock } from '../../src/testing/index.js';

const minuteMs = 60_000;

/** A manager on a manual clock whose token endpoint gives `answer(now)`. */
async function managerAnswering(
  t: TestContext,
  answer: (nowMs: number) => RawAnswer,
): Promise<{ tokens: TokenManager; clock: ManualClock }> {
  const clock = createClock();
  const server = await startRawTokenServer(t, () => answer(clock.now()));
  const tokens = new TokenManager({
    tokenEndpoint: `${server.url}/token`,
    clientId,
    clientSecret,
    allowInsecureRequests: true,
    clock,
    retry: { retries: 0 },
  });
  t.after(() => tokens.close());
  return { tokens, clock };
}

describe('expiry of a JWT access token', () => {
  it('expires at the JWT exp when that comes before expires_in', async (t) => {
    const { tokens, clock } = await managerAnswering(t, (now) => ({
      headers: { date: httpDate(now) },
      body: { access_token: jwtExpiringAt(now + minuteMs), token_type: 'Bearer', expires_in: 3600 },
    }));
    const sentAt = clock.now();
    const token = await tokens.getToken();
    assert.equal(token.expiresAt.getTime() - sentAt, minuteMs);
  });

  it('expires at expires_in when that comes before the JWT exp', async (t) => {
    const { tokens, clock } = await managerAnswering(t, (now) => ({
      headers: { date: httpDate(now) },
      body: { access_token: jwtExpiringAt(now + 60 * minuteMs), token_type: 'Bearer', expires_in: 300 },
    }));
    const sentAt = clock.now();
    const token = await tokens.getToken();
    assert.equal(token.expiresAt.getTime() - sentAt, 5 * minuteMs);
  });

  it('does not let a Date header 24 hours behind stretch the JWT exp', async (t) => {
    const { tokens, clock } = await managerAnswering(t, (now) => ({
      headers: { date: httpDate(now - 24 * 60 * minuteMs) },
      body: { access_token: jwtExpiringAt(now + 60 * minuteMs), token_type: 'Bearer' },
    }));
    const sentAt = clock.now();
    const token = await tokens.getToken();
    assert.equal((token.expiresAt.getTime() - sentAt) / minuteMs, 60);
  });

  it('moves the JWT exp earlier by as much as a Date header ahead of our clock shows', async (t) => {
    const { tokens, clock } = await managerAnswering(t, (now) => ({
      // The server's clock runs 2 minutes ahead: its exp of "its now + 15 min" is our now + 17 min.
      headers: { date: httpDate(now + 2 * minuteMs) },
      body: { access_token: jwtExpiringAt(now + 17 * minuteMs), token_type: 'Bearer' },
    }));
    const sentAt = clock.now();
    const token = await tokens.getToken();
    assert.equal((token.expiresAt.getTime() - sentAt) / minuteMs, 15);
  });

  it('rejects a JWT that expired 10 minutes ago as invalid_response, whatever a Date header 70 minutes behind says', async (t) => {
    const { tokens } = await managerAnswering(t, (now) => ({
      headers: { date: httpDate(now - 70 * minuteMs) },
      body: { access_token: jwtExpiringAt(now - 10 * minuteMs), token_type: 'Bearer' },
    }));
    await assert.rejects(tokens.getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'invalid_response');
      assert.match(err.message, /already expired/);
      return true;
    });
  });

  it('rejects a JWT that has expired even when expires_in is still in the future', async (t) => {
    const { tokens } = await managerAnswering(t, (now) => ({
      headers: { date: httpDate(now) },
      body: { access_token: jwtExpiringAt(now - minuteMs), token_type: 'Bearer', expires_in: 3600 },
    }));
    await assert.rejects(tokens.getToken(), { code: 'invalid_response' });
  });
});
