import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClock, createManager, startTokenServer } from '../helpers/token-fixtures.js';

describe('wall-clock steps', () => {
  it('does not let a backward step of the wall clock make a cached token outlive its lifetime', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 3_600 });
    const tokens = createManager(t, server, { clock });
    const first = await tokens.getToken();
    clock.stepWallClock(-2 * 3_600_000);
    await clock.advance(3_600_000);
    assert.equal(tokens.getCachedToken(), undefined, 'the token has lived its hour, whatever the wall clock says');
    const next = await tokens.getToken();
    assert.notEqual(next.accessToken, first.accessToken);
  });

  it('keeps a token when the wall clock steps forward, since no time really passed', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 3_600 });
    const tokens = createManager(t, server, { clock });
    const first = await tokens.getToken();
    clock.stepWallClock(2 * 3_600_000);
    assert.equal(tokens.getCachedToken(), first);
  });
});
