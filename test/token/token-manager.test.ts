import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { TokenError } from '../../src/index.js';
import type { AccessToken, Clock, TokenManagerOptions } from '../../src/index.js';
import type { RefreshFailedEvent, TokenIssuedEvent } from '../../src/index.js';
import { ManualClock, type MockTokenServer } from '../../src/testing/index.js';
import { TokenManager } from '../../src/index.js';
import { invalidOption } from '../helpers/config-error.js';
import {
  clientId,
  clientSecret,
  closeAfterTest,
  createClock,
  createManager,
  createTempDir,
  driveUntilSettled,
  managerOptions,
  requestsSettled,
  startTokenServer,
  until,
  untilResolves,
} from '../helpers/token-fixtures.js';

describe('getting a token', () => {
  it('gets a Bearer token with client_secret_basic from a plain token endpoint', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const token = await tokens.getToken();
    assert.equal(token.tokenType, 'Bearer');
    assert.deepEqual(token.scopes, ['orders.read']);
    const claims = await server.verifyAccessToken(token.accessToken);
    assert.equal(claims.sub, clientId);
    assert.equal(claims.scope, 'orders.read');
    assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_basic');
  });

  it('gets a token with client_secret_post', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { clientAuthMethod: 'client_secret_post' });
    await tokens.getToken();
    assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_post');
  });

  /** A manager for client `jwt-client` of `server`, authenticating with a fresh private JWK (`private_key_jwt`). */
  async function privateJwkManager(t: TestContext, server: MockTokenServer, extra: TokenManagerOptions = {}) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    server.addClient({ clientId: 'jwt-client', publicKey: await exportJWK(publicKey) });
    const options = { tokenEndpoint: server.tokenEndpoint, clientId: 'jwt-client', allowInsecureRequests: true };
    return closeAfterTest(
      t,
      new TokenManager({ ...options, privateKey: { ...(await exportJWK(privateKey)), kid: 'k1' }, ...extra }),
    );
  }

  it('gets a token with private_key_jwt signed by a private JWK', async (t) => {
    const server = await startTokenServer(t);
    const tokens = await privateJwkManager(t, server);
    const token = await tokens.getToken();
    assert.equal((await server.verifyAccessToken(token.accessToken)).sub, 'jwt-client');
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  it('dates its private_key_jwt assertions by the injected clock, as the token server that shares it checks them', async (t) => {
    // A clock a day ahead of real time: the assertion's iat and exp must come from it, not from Date.now().
    const clock = new ManualClock(Date.now() + 24 * 3600_000);
    const server = await startTokenServer(t, { clock });
    const tokens = await privateJwkManager(t, server, { clock });
    await tokens.getToken();
    await clock.advance(30 * 60_000); // and half an hour on: each assertion is dated afresh
    tokens.invalidate();
    assert.equal((await server.verifyAccessToken((await tokens.getToken()).accessToken)).sub, 'jwt-client');
  });

  it('gets a token with private_key_jwt signed by a PEM key, after discovery from the issuer', async (t) => {
    const server = await startTokenServer(t);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    server.addClient({
      clientId: 'pem-client',
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    const tokens = closeAfterTest(
      t,
      new TokenManager({
        issuer: server.issuer,
        clientId: 'pem-client',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        allowInsecureRequests: true,
      }),
    );
    await tokens.getToken();
    const paths = server.requests.map((r) => r.path);
    assert.ok(
      paths.some((p) => p.startsWith('/.well-known/')),
      'discovery document fetched',
    );
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  it('sends the scopes, audience and resource it is configured with', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, {
      scopes: ['orders.write', 'orders.read'],
      audience: 'https://orders.example.test',
      resource: 'https://orders.example.test/api',
    });
    const token = await tokens.getToken();
    const request = server.requests.at(-1);
    assert.equal(request?.scope, 'orders.read orders.write');
    assert.equal(request?.audience, 'https://orders.example.test');
    assert.equal(request?.resource, 'https://orders.example.test/api');
    assert.deepEqual(token.scopes, ['orders.read', 'orders.write']);
  });

  it('serves one cached token for a scope set whatever the order of its scopes', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const a = await tokens.getToken({ scopes: ['orders.read', 'inventory.read'] });
    const b = await tokens.getToken({ scopes: ['inventory.read', 'orders.read'] });
    assert.equal(a, b);
    assert.equal(server.tokenRequestCount, 1);
  });

  it('fetches a token of its own for another scope set', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const a = await tokens.getToken({ scopes: ['orders.read', 'inventory.read'] });
    const c = await tokens.getToken({ scopes: ['orders.write'] });
    assert.notEqual(a.accessToken, c.accessToken);
    assert.equal(server.tokenRequestCount, 2);
  });

  it('shares one token request among 1,000 concurrent cold callers', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const all = await Promise.all(Array.from({ length: 1000 }, () => tokens.getToken()));
    assert.equal(server.tokenRequestCount, 1);
    assert.ok(all.every((t) => t === all[0]));
    assert.equal(tokens.stats().callersWaited, 1000);
  });

  it('answers from the cache without a request while the token is fresh', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const first = await tokens.getToken();
    for (let i = 0; i < 100; i++) assert.equal(await tokens.getToken(), first);
    assert.equal(server.tokenRequestCount, 1);
    assert.equal(tokens.stats().cacheHits, 100);
  });

  it('stops waiting when the caller aborts, while the shared request goes on', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'delay', ms: 200 });
    const tokens = createManager(t, server);
    const controller = new AbortController();
    const waiting = tokens.getToken({ signal: controller.signal });
    const patient = tokens.getToken();
    controller.abort();
    await assert.rejects(waiting, (err: TokenError) => err.code === 'aborted');
    assert.equal((await patient).tokenType, 'Bearer');
    assert.equal(server.tokenRequestCount, 1);
  });

  it('getCachedToken() returns undefined before the first token, and starts no request', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    assert.equal(tokens.getCachedToken(), undefined);
    assert.equal(tokens.stats().tokenRequests, 0, 'a peek starts no request');
    assert.equal(server.tokenRequestCount, 0);
  });

  it('getCachedToken() returns the cached token synchronously', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const token = await tokens.getToken();
    assert.equal(tokens.getCachedToken(), token);
    assert.equal(tokens.stats().cachedTokens, 1);
  });

  it('getCachedToken() returns undefined for a scope set with no token cached', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await tokens.getToken();
    assert.equal(tokens.getCachedToken({ scopes: ['orders.write'] }), undefined);
  });

  it('getCachedToken() keeps returning the token while its refresh is pending', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, { clock });
    const token = await tokens.getToken();
    server.failNext(1, { type: 'hang' }); // the refresh will hang
    await clock.advance(545_000); // past the refresh time, timer fired
    await until(() => server.tokenRequestCount === 2);
    assert.equal(tokens.getCachedToken(), token);
  });

  it('getCachedToken() returns undefined once the token has expired, and stats no longer count it', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, { clock });
    await tokens.getToken();
    server.failNext(1, { type: 'hang' }); // the refresh will hang, so nothing replaces the token
    await clock.advance(545_000);
    await until(() => server.tokenRequestCount === 2);
    await clock.advance(60_000);
    assert.equal(tokens.getCachedToken(), undefined, 'expired');
    assert.equal(tokens.stats().cachedTokens, 0, 'an expired token is not counted as cached');
  });

  it('getCachedToken() returns undefined after close()', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await tokens.getToken();
    tokens.close();
    assert.equal(tokens.getCachedToken(), undefined);
  });

  it('invalidate() with a token it does not hold keeps the cached one', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const first = await tokens.getToken();
    tokens.invalidate('some-other-token');
    assert.equal(await tokens.getToken(), first);
    assert.equal(server.tokenRequestCount, 1);
  });

  it('invalidate() with the cached token makes the next call fetch a new one', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const first = await tokens.getToken();
    tokens.invalidate(first.accessToken);
    const second = await tokens.getToken();
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(server.tokenRequestCount, 2);
  });
});

describe('refresh', () => {
  it('serves the cached token at once past the refresh time and refreshes in the background', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 3600 });
    const tokens = createManager(t, server, { clock });
    const first = await tokens.getToken();
    // The refresh the timer starts is held open by the server; callers do not wait for it.
    server.failNext(1, { type: 'hang' });
    await clock.advance(3_600_000 - 59_000); // past expiry - 60 s, timers included
    await until(() => server.tokenRequestCount === 2);
    const served = await tokens.getToken();
    assert.equal(served.accessToken, first.accessToken);
    assert.equal(tokens.stats().callersWaited, 1, 'only the very first call waited');
  });

  it('refreshes from a timer with no caller waiting', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 3600 });
    const tokens = createManager(t, server, { clock });
    const first = await tokens.getToken();
    const refreshed = once(tokens, 'tokenIssued') as Promise<[TokenIssuedEvent]>;
    await clock.advance(3_600_000 - 59_000);
    const [event] = await refreshed;
    assert.equal(event.callerWaited, false);
    assert.equal(server.tokenRequestCount, 2, 'the timer sent the refresh');
    assert.notEqual((await tokens.getToken()).accessToken, first.accessToken);
    assert.equal(tokens.stats().callersWaited, 1);
    assert.equal(tokens.stats().backgroundRefreshes, 1);
  });

  it('refreshes a token that lives shorter than the margin at half its lifetime', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 20 });
    const tokens = createManager(t, server, { clock });
    const issued: TokenIssuedEvent[] = [];
    tokens.on('tokenIssued', (e) => issued.push(e));
    await tokens.getToken();
    assert.equal(issued[0]?.refreshAt.getTime(), clock.now() + 10_000);
    await clock.advance(9_000);
    assert.equal(tokens.stats().tokenRequests, 1, 'nothing before half-life');
    await tokens.getToken();
    const refreshed = once(tokens, 'tokenIssued');
    await clock.advance(1_000);
    await refreshed;
    assert.equal(server.tokenRequestCount, 2, 'one refresh at half-life');
  });

  it('does not refresh a token that lives shorter than the margin in a loop', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 20 });
    const tokens = createManager(t, server, { clock });
    const issued: TokenIssuedEvent[] = [];
    tokens.on('tokenIssued', (e) => issued.push(e));
    await tokens.getToken();
    await clock.advance(10_000); // half-life: the one refresh
    await until(() => issued.length === 2);
    await tokens.getToken();
    // The new token's refresh is at its own half-life, so no timer is due until then.
    assert.equal(issued[1]?.refreshAt.getTime(), clock.now() + 10_000);
    await clock.advance(9_999);
    assert.equal(tokens.stats().tokenRequests, 2, 'no loop after the refresh');
    await requestsSettled(tokens);
    assert.equal(server.tokenRequestCount, 2);
  });

  it('lets a scope set nobody uses stop refreshing', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, { clock });
    await tokens.getToken();
    await clock.advance(600_000); // first refresh: the token was used
    await until(() => server.tokenRequestCount === 2);
    await requestsSettled(tokens);
    await clock.advance(600_000); // unused since: no refresh
    // A refresh timer starts its request as it fires, so none was started if none is counted now.
    assert.equal(tokens.stats().tokenRequests, 2);
    assert.equal(server.tokenRequestCount, 2);
  });

  it('keeps serving the still-valid token of a scope set nobody used for a refresh interval, and drops the scope set once it expires', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, { clock });
    const scopes = ['orders.write'];
    const issued: TokenIssuedEvent[] = [];
    tokens.on('tokenIssued', (e) => issued.push(e));
    await tokens.getToken({ scopes });
    await clock.advance(550_000); // past the first refresh time: the scope set was used, so it refreshes
    await until(() => issued.length === 2);
    const second = issued[1]!;
    await clock.advance(second.refreshAt.getTime() - clock.now()); // its refresh time: unused since
    await requestsSettled(tokens);
    assert.equal(server.tokenRequestCount, 2, 'no refresh for a scope set nobody used');
    const served = tokens.getCachedToken({ scopes });
    assert.equal(served?.expiresAt.getTime(), second.expiresAt.getTime(), 'a caller now gets the valid token at once');
    await until(() => issued.length === 3); // and the use resumes the refreshes, in the background
    // The use is worth one more refresh; then the scope set goes unused until its token expires.
    await clock.advance(issued[2]!.refreshAt.getTime() - clock.now());
    await until(() => issued.length === 4);
    const last = issued[3]!;
    await clock.advance(last.expiresAt.getTime() - clock.now() - 1);
    assert.equal(tokens.stats().scopeSets, 2, 'kept while its token is valid');
    await clock.advance(1);
    assert.equal(tokens.stats().scopeSets, 1, 'dropped once it expired: only the configured scope set is left');
    assert.equal(server.tokenRequestCount, 4);
  });
});

/** A clock whose timers fire early, as Node's sometimes do by the wall clock, and record their delays. */
function earlyFiringClock(inner: ManualClock, delays: number[] = []): Clock {
  return {
    now: () => inner.now(),
    setTimeout(callback, delayMs) {
      delays.push(delayMs);
      // Node turns a delay above 2^31-1 ms into 1 ms; model that, and fire everything else at 90%.
      return inner.setTimeout(
        callback,
        delayMs > 2_147_483_647 ? 1 : delayMs <= 1 ? delayMs : Math.floor(delayMs * 0.9),
      );
    },
  };
}

describe('timers', () => {
  it('does not refresh before the refresh time when its timer fires early', async (t) => {
    const manual = createClock();
    const server = await startTokenServer(t, { clock: manual, tokenLifetimeSec: 3600 });
    const tokens = createManager(t, server, { clock: earlyFiringClock(manual) });
    const issued: TokenIssuedEvent[] = [];
    tokens.on('tokenIssued', (e) => issued.push(e));
    await tokens.getToken();
    const refreshAt = issued[0]!.refreshAt.getTime();
    await manual.advance(refreshAt - manual.now() - 1);
    // A refresh timer starts its request as it fires, so none was started if none is counted now.
    assert.equal(tokens.stats().tokenRequests, 1, 'nothing before the refresh time');
    await requestsSettled(tokens);
    assert.equal(server.tokenRequestCount, 1);
    await manual.advance(1);
    await until(() => server.tokenRequestCount === 2);
  });

  it('refreshes a 30-day token once, with no timer delay above what Node can hold', async (t) => {
    const manual = createClock();
    const server = await startTokenServer(t, { clock: manual, tokenLifetimeSec: 30 * 24 * 3600 });
    const delays: number[] = [];
    const tokens = createManager(t, server, { clock: earlyFiringClock(manual, delays) });
    await tokens.getToken();
    for (let day = 0; day < 30; day++) {
      await manual.advance(24 * 3600_000);
      await requestsSettled(tokens);
      await tokens.getToken();
    }
    await requestsSettled(tokens);
    assert.equal(server.tokenRequestCount, 2, 'one refresh in thirty days, not a loop');
    assert.ok(Math.max(...delays) <= 2_147_483_647, `largest timer delay ${Math.max(...delays)} ms`);
  });

  it('keeps retrying through an outage when its retry timers fire early', async (t) => {
    const manual = createClock();
    const server = await startTokenServer(t, { clock: manual, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, {
      clock: earlyFiringClock(manual),
      retry: { retries: 0, minTimeoutMs: 1_000, maxTimeoutMs: 10_000 },
    });
    await tokens.getToken();
    server.failNext(1_000, { type: 'error', status: 503 });
    await manual.advance(540_000); // the refresh time: the first attempt fails
    await until(() => server.tokenRequestCount === 2);
    for (let i = 0; i < 30; i++) {
      await manual.advance(2_000);
      await requestsSettled(tokens);
    }
    assert.ok(server.tokenRequestCount >= 6, `${server.tokenRequestCount} requests: the background retries went on`);
  });
});

describe('expiry', () => {
  it('counts expires_in from when the request was sent', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    const tokens = createManager(t, server, { clock });
    const sentAt = clock.now();
    const token = await tokens.getToken();
    assert.equal(token.expiresAt.getTime(), sentAt + 600_000);
  });

  it('counts expires_in from the send, not the arrival, when the answer is slow', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
    server.failNext(1, { type: 'delay', ms: 50 });
    const tokens = createManager(t, server, { clock });
    const sentAt = clock.now();
    const pending = tokens.getToken();
    await until(() => server.tokenRequestCount === 1);
    await clock.advance(5_000); // five seconds pass while the answer is on its way
    const token = await pending;
    assert.equal(token.expiresAt.getTime(), sentAt + 600_000);
  });

  it('falls back to the JWT exp when expires_in is missing, corrected by the Date header for clock skew', async (t) => {
    const clock = createClock();
    const serverClock = { now: () => clock.now() + 120_000 }; // the server runs two minutes ahead
    const server = await startTokenServer(t, { clock: serverClock, tokenLifetimeSec: 900 });
    server.omitExpiresIn = true;
    const tokens = createManager(t, server, { clock });
    const token = await tokens.getToken();
    const expected = clock.now() + 900_000;
    assert.ok(
      Math.abs(token.expiresAt.getTime() - expected) <= 1_000,
      `${token.expiresAt.toISOString()} ≈ now + 900 s`,
    );
  });

  it('falls back to defaultLifetimeMs for an opaque token without expires_in', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(1, {
      type: 'body',
      body: JSON.stringify({ access_token: 'opaque-token-value', token_type: 'bearer' }),
    });
    const tokens = createManager(t, server, { clock, defaultLifetimeMs: 120_000 });
    const token = await tokens.getToken();
    assert.equal(token.expiresAt.getTime(), clock.now() + 120_000);
  });

  const malformed: [string, string][] = [
    ['a body that is not JSON', 'this is not json'],
    ['no access_token', JSON.stringify({ token_type: 'Bearer', expires_in: 60 })],
    ['an empty access_token', JSON.stringify({ access_token: '', token_type: 'Bearer', expires_in: 60 })],
    ['a token_type other than Bearer', JSON.stringify({ access_token: 'x', token_type: 'mac', expires_in: 60 })],
    ['a DPoP token_type', JSON.stringify({ access_token: 'x', token_type: 'DPoP', expires_in: 60 })],
    ['a non-numeric expires_in', JSON.stringify({ access_token: 'x', token_type: 'Bearer', expires_in: 'soon' })],
    ['a negative expires_in', JSON.stringify({ access_token: 'x', token_type: 'Bearer', expires_in: -5 })],
    ['a zero expires_in', JSON.stringify({ access_token: 'x', token_type: 'Bearer', expires_in: 0 })],
    ['an absurd expires_in', JSON.stringify({ access_token: 'x', token_type: 'Bearer', expires_in: 1e12 })],
    ['a JSON array', '[1,2,3]'],
  ];
  for (const [what, body] of malformed) {
    it(`rejects an answer with ${what} as invalid_response`, async (t) => {
      const server = await startTokenServer(t);
      server.failNext(1, { type: 'body', body });
      const tokens = createManager(t, server, { retry: { retries: 0 } });
      await assert.rejects(tokens.getToken(), (err: TokenError) => {
        assert.ok(err instanceof TokenError);
        assert.equal(err.code, 'invalid_response');
        return true;
      });
    });
  }

  it('accepts a token_type of "bearer" in any case', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, {
      type: 'body',
      body: JSON.stringify({ access_token: 'x', token_type: 'BEARER', expires_in: 60 }),
    });
    const tokens = createManager(t, server);
    assert.equal((await tokens.getToken()).tokenType, 'Bearer');
  });
});

/**
 * Ten minutes of a 503 outage with a 10-minute token, walked through in 5-second steps with a call
 * each, as a busy service would, up to 5 s before the token expires.
 */
async function walkThroughOutage(t: TestContext) {
  const clock = createClock();
  const server = await startTokenServer(t, { clock, tokenLifetimeSec: 600 });
  const tokens = createManager(t, server, { clock, retry: { retries: 3, minTimeoutMs: 1_000, maxTimeoutMs: 20_000 } });
  const cached = await tokens.getToken();
  server.failNext(10_000, { type: 'error', status: 503 });
  const start = clock.now();
  const served: AccessToken[] = [];
  while (clock.now() < start + 600_000 - 5_000) {
    await clock.advance(5_000);
    await requestsSettled(tokens);
    served.push(await tokens.getToken());
  }
  return { clock, server, tokens, cached, served };
}

/** A manager reading its client secret from a file that holds a wrong one, on a manual clock. */
async function rotatingSecretScene(t: TestContext) {
  const clock = createClock();
  const server = await startTokenServer(t, { clock });
  const file = join(await createTempDir(t, 'secret-'), 'secret');
  await writeFile(file, 'wrong-secret-value');
  server.addClient({ clientId: 'rotating', clientSecret: 'right-secret-value' });
  const tokens = closeAfterTest(
    t,
    new TokenManager({
      tokenEndpoint: server.tokenEndpoint,
      clientId: 'rotating',
      clientSecretFile: file,
      allowInsecureRequests: true,
      clock,
    }),
  );
  return { clock, server, file, tokens };
}

/** The HTTP statuses of the token endpoint's answers, in order. */
function tokenAnswerStatuses(server: MockTokenServer): (number | undefined)[] {
  return server.requests.filter((r) => r.path === '/oauth2/token').map((r) => r.status);
}

describe('retries and failures', () => {
  it('retries 503 twice with jittered, growing delays that honour Retry-After, then succeeds', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(1, { type: 'error', status: 503, error: 'temporarily_unavailable', retryAfter: 3 });
    server.failNext(1, { type: 'error', status: 503 });
    const tokens = createManager(t, server, { clock, retry: { retries: 5, minTimeoutMs: 200, maxTimeoutMs: 30_000 } });
    const failures: RefreshFailedEvent[] = [];
    tokens.on('refreshFailed', (e) => failures.push(e));
    const { value, error } = await driveUntilSettled(clock, tokens, tokens.getToken());
    assert.equal(error, undefined);
    assert.equal(value?.tokenType, 'Bearer');
    assert.equal(server.tokenRequestCount, 3);
    assert.deepEqual(
      failures.map((f) => f.attempt),
      [1, 2],
    );
    assert.ok(failures[0]!.nextDelayMs >= 3_000, 'Retry-After: 3 honoured');
    assert.ok(
      failures[1]!.nextDelayMs >= 200 && failures[1]!.nextDelayMs <= 400,
      'second delay within its jitter band',
    );
    assert.equal(failures[0]?.error.code, 'temporarily_unavailable');
    assert.equal(failures[1]?.error.code, 'server_error');
  });

  it('gives up after the configured retries with the last error', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(10, { type: 'error', status: 500 });
    const tokens = createManager(t, server, { clock, retry: { retries: 2 } });
    const { error } = await driveUntilSettled(clock, tokens, tokens.getToken());
    assert.ok(error instanceof TokenError);
    assert.equal(error.code, 'server_error');
    assert.equal(error.status, 500);
    assert.equal(error.retryable, true);
    assert.equal(server.tokenRequestCount, 3);
  });

  it('sends one request for 1,000 concurrent callers on invalid_client', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { clientSecret: 'wrong-secret-value' });
    const fatal: unknown[] = [];
    tokens.on('fatalFailure', (e) => fatal.push(e));
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => tokens.getToken()));
    assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as TokenError).code === 'invalid_client'));
    assert.equal(server.tokenRequestCount, 1);
    assert.equal(fatal.length, 1);
  });

  it('answers the calls after an invalid_client with the remembered failure, not a request each', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { clientSecret: 'wrong-secret-value' });
    const fatal: unknown[] = [];
    tokens.on('fatalFailure', (e) => fatal.push(e));
    await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    for (let i = 0; i < 50; i++)
      await assert.rejects(tokens.getToken(), { code: 'invalid_client', retryable: false, status: 401 });
    assert.equal(server.tokenRequestCount, 1, 'a fatal failure is remembered, not retried per call');
    assert.equal(fatal.length, 1);
  });

  it('remembers an invalid_scope failure instead of retrying it', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { scopes: ['admin.everything'] });
    await assert.rejects(tokens.getToken(), { code: 'invalid_scope', status: 400 });
    await assert.rejects(tokens.getToken(), { code: 'invalid_scope' });
    assert.equal(server.tokenRequestCount, 1);
  });

  it('forgets a remembered fatal failure on invalidate()', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { scopes: ['admin.everything'] });
    await assert.rejects(tokens.getToken(), { code: 'invalid_scope', status: 400 });
    tokens.invalidate();
    await assert.rejects(tokens.getToken(), { code: 'invalid_scope' });
    assert.equal(server.tokenRequestCount, 2);
  });

  it('gives callers in the backoff window the last error at once instead of a request each', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(100, { type: 'error', status: 503 });
    const tokens = createManager(t, server, { clock, retry: { retries: 0, minTimeoutMs: 1_000 } });
    await assert.rejects(tokens.getToken(), { code: 'server_error' });
    for (let i = 0; i < 100; i++) await assert.rejects(tokens.getToken(), { code: 'server_error' });
    assert.equal(server.tokenRequestCount, 1);
  });

  it('makes one new attempt once the backoff window has passed', async (t) => {
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(100, { type: 'error', status: 503 });
    const tokens = createManager(t, server, { clock, retry: { retries: 0, minTimeoutMs: 1_000 } });
    await assert.rejects(tokens.getToken(), { code: 'server_error' });
    await clock.advance(1_000);
    await assert.rejects(tokens.getToken(), { code: 'server_error' });
    assert.equal(server.tokenRequestCount, 2, 'after the window, one new attempt');
  });

  it('serves the cached token through an outage until it expires', async (t) => {
    const { served, cached, tokens } = await walkThroughOutage(t);
    assert.ok(served.length > 100);
    assert.ok(served.every((token) => token.accessToken === cached.accessToken));
    assert.equal(tokens.stats().callersWaited, 1);
  });

  it('keeps retrying with backoff in the background while it serves the cached token through an outage', async (t) => {
    const { server } = await walkThroughOutage(t);
    assert.ok(server.tokenRequestCount > 3, 'kept retrying in the background');
    assert.ok(server.tokenRequestCount < 60, `but with backoff (${server.tokenRequestCount} requests)`);
  });

  it('rejects with the last error once the cached token has expired in an outage', async (t) => {
    const { clock, tokens } = await walkThroughOutage(t);
    await clock.advance(5_000);
    await requestsSettled(tokens);
    await assert.rejects(tokens.getToken(), { code: 'server_error' });
    assert.equal(tokens.stats().callersWaited, 1);
  });

  it('reports an unreachable token endpoint as a retryable network error', async (t) => {
    const server = await startTokenServer(t);
    const endpoint = server.tokenEndpoint;
    await server.close();
    const tokens = closeAfterTest(
      t,
      new TokenManager({ ...managerOptions(server), tokenEndpoint: endpoint, retry: { retries: 0 } }),
    );
    await assert.rejects(tokens.getToken(), (err: TokenError) => {
      assert.equal(err.code, 'network');
      assert.equal(err.retryable, true);
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('reports a connection reset as a network error', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'reset' });
    const tokens = createManager(t, server, { retry: { retries: 0 } });
    await assert.rejects(tokens.getToken(), { code: 'network' });
  });

  it('times out a hanging token endpoint after requestTimeoutMs', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'hang' });
    const tokens = createManager(t, server, { requestTimeoutMs: 100, retry: { retries: 0 } });
    await assert.rejects(tokens.getToken(), { code: 'timeout', retryable: true });
  });

  it('times out a token endpoint that sends headers and then nothing', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'hang-after-headers' });
    const tokens = createManager(t, server, { requestTimeoutMs: 100, retry: { retries: 0 } });
    await assert.rejects(tokens.getToken(), { code: 'timeout' });
  });

  it('treats an HTML error page from a proxy as a retryable server error', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'html', status: 502 });
    const tokens = createManager(t, server, { retry: { retries: 0 } });
    await assert.rejects(tokens.getToken(), { code: 'server_error', status: 502, retryable: true });
  });

  it('reads a rotated client secret file again when the server answers invalid_client', async (t) => {
    const server = await startTokenServer(t);
    const file = join(await createTempDir(t, 'secret-'), 'secret');
    await writeFile(file, 'old-secret-value-1\n');
    server.addClient({ clientId: 'rotating', clientSecret: 'old-secret-value-1' });
    const tokens = closeAfterTest(
      t,
      new TokenManager({
        tokenEndpoint: server.tokenEndpoint,
        clientId: 'rotating',
        clientSecretFile: file,
        allowInsecureRequests: true,
      }),
    );
    await tokens.getToken();
    server.addClient({ clientId: 'rotating', clientSecret: 'new-secret-value-2' });
    await writeFile(file, 'new-secret-value-2\n');
    tokens.invalidate();
    await tokens.getToken();
    assert.deepEqual(
      server.requests.filter((r) => r.path === '/oauth2/token').map((r) => r.status),
      [200, 401, 200],
    );
  });

  it('notices a secret file rotated after a fatal failure, without a request per call', async (t) => {
    const { server, file, tokens } = await rotatingSecretScene(t);
    await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    await writeFile(file, 'right-secret-value');
    // The first caller to hit the remembered failure makes the manager read the file again in the
    // background; until that read is done, every caller gets the failure at once. (These calls
    // only queue promise jobs, so the read, which needs the event loop, cannot end among them.)
    for (let i = 0; i < 100; i++) await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    assert.equal(tokens.stats().tokenRequests, 1);
    const { value: token, rejections } = await untilResolves(() => tokens.getToken());
    assert.ok(rejections.every((err) => (err as TokenError).code === 'invalid_client'));
    assert.equal(token.tokenType, 'Bearer');
    assert.deepEqual(tokenAnswerStatuses(server), [401, 200], 'one refusal, then the request with the rotated secret');
  });

  it('makes the source re-read its credentials at most once per retry.maxTimeoutMs while a fatal failure is remembered', async (t) => {
    const clock = createClock();
    // A source whose client is refused, and whose credential re-reads the test answers one by one.
    const reloads: ((changed: boolean) => void)[] = [];
    let attempts = 0;
    const tokens = closeAfterTest(
      t,
      new TokenManager({
        clock,
        retry: { maxTimeoutMs: 30_000 },
        tokenSource: {
          endpoint: 'refusing-source',
          fetchToken: () => {
            attempts++;
            return Promise.reject(new TokenError('invalid_client', 'client authentication failed', { status: 401 }));
          },
          reloadCredentials: () => new Promise<boolean>((resolve) => reloads.push(resolve)),
        },
      }),
    );
    const first = tokens.getToken();
    await until(() => reloads.length === 1); // the refused attempt reads the credentials again itself
    reloads[0]!(false);
    await assert.rejects(first, { code: 'invalid_client' });
    for (let i = 0; i < 100; i++) await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    assert.equal(reloads.length, 2, 'the first caller to hit the remembered failure starts one re-read');
    reloads[1]!(false);
    await clock.advance(29_999);
    for (let i = 0; i < 100; i++) await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    assert.equal(reloads.length, 2, 'none within retry.maxTimeoutMs of the last');
    await clock.advance(1);
    await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    assert.equal(reloads.length, 3, 'the first caller after it starts the next');
    assert.equal(attempts, 1, 'and no caller sends a request');
  });

  it('reads the secret file again once retry.maxTimeoutMs has passed since the last read', async (t) => {
    const { server, file, clock, tokens } = await rotatingSecretScene(t);
    await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    // A first rotation, to another wrong secret: a caller's check finds it and the next call is refused again.
    await writeFile(file, 'still-wrong-secret-value');
    const { value: refusedAgain } = await untilResolves(() =>
      tokens.getToken().catch((err: TokenError) => {
        if (server.tokenRequestCount < 2) throw err; // the check has not ended yet: refused at once
        return err;
      }),
    );
    assert.equal((refusedAgain as TokenError).code, 'invalid_client');
    await requestsSettled(tokens);
    // The right secret comes just after that check: the callers of the next 30 s get the failure at once.
    await writeFile(file, 'right-secret-value');
    await clock.advance(29_999);
    for (let i = 0; i < 100; i++) await assert.rejects(tokens.getToken(), { code: 'invalid_client' });
    await clock.advance(1);
    await assert.rejects(
      tokens.getToken(),
      { code: 'invalid_client' },
      'this caller starts the check and still gets the error at once',
    );
    const { value: token } = await untilResolves(() => tokens.getToken());
    assert.equal(token.tokenType, 'Bearer');
    assert.deepEqual(tokenAnswerStatuses(server), [401, 401, 200]);
  });
});

describe('configuration', () => {
  it('refuses an http token endpoint unless allowInsecureRequests is set', () => {
    assert.throws(
      () => new TokenManager({ tokenEndpoint: 'http://auth.example.test/token', clientId, clientSecret }),
      invalidOption(/^tokenEndpoint is http:\/\/; .*allowInsecureRequests/),
    );
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no endpoint', { clientId, clientSecret }, /issuer.*tokenEndpoint/],
    ['no client id', { tokenEndpoint: 'https://a.test/t', clientSecret }, /clientId/],
    ['no credential', { tokenEndpoint: 'https://a.test/t', clientId }, /credential/],
    [
      'two credentials',
      { tokenEndpoint: 'https://a.test/t', clientId, clientSecret, privateKey: 'x' },
      /only one credential/,
    ],
    ['a bad URL', { tokenEndpoint: 'not a url', clientId, clientSecret }, /tokenEndpoint is not a valid URL/],
    [
      'a secret method with a key',
      { tokenEndpoint: 'https://a.test/t', clientId, privateKey: 'x', clientAuthMethod: 'client_secret_basic' },
      /needs a clientSecret/,
    ],
    [
      'an unknown auth method',
      { tokenEndpoint: 'https://a.test/t', clientId, clientSecret, clientAuthMethod: 'tls_client_auth' },
      /clientAuthMethod/,
    ],
    [
      'a negative margin',
      { tokenEndpoint: 'https://a.test/t', clientId, clientSecret, refreshBeforeExpiryMs: -1 },
      /refreshBeforeExpiryMs/,
    ],
    ['a scope with a space', { tokenEndpoint: 'https://a.test/t', clientId, clientSecret, scopes: ['a b'] }, /scopes/],
    [
      'a misspelt option',
      { tokenEndpoint: 'https://a.test/t', clientId, clientSecret, refreshBeforeExpiry: 5 },
      /unknown TokenManager option "refreshBeforeExpiry"/,
    ],
    [
      'fractional retries',
      { tokenEndpoint: 'https://a.test/t', clientId, clientSecret, retry: { retries: 1.5 } },
      /retry.retries/,
    ],
  ];
  for (const [what, options, message] of bad) {
    it(`names the bad option when given ${what}`, () => {
      assert.throws(
        () => new TokenManager(options),
        (err: Error) => {
          invalidOption(message)(err);
          assert.ok(!err.message.includes(clientSecret));
          return true;
        },
      );
    });
  }

  it('rejects a private key it cannot import with a config error that does not quote the key', async (t) => {
    // A real key made unreadable: the first bytes of its DER body no longer parse.
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const brokenPem = pem.replace(/\n[A-Za-z0-9+/]{4}/, '\nbm90');
    const server = await startTokenServer(t);
    const tokens = createManager(t, server, { clientSecret: undefined, privateKey: brokenPem });
    await assert.rejects(
      tokens.getToken(),
      (err: TokenError) => err.code === 'config' && !err.message.includes(brokenPem.split('\n')[1]!),
    );
    assert.equal(server.tokenRequestCount, 0);
  });
});

describe('lifecycle', () => {
  it('aborts the request in flight on close(), rejecting its callers with closed', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'hang' });
    const tokens = createManager(t, server);
    const pending = tokens.getToken();
    await until(() => server.tokenRequestCount === 1);
    tokens.close();
    await assert.rejects(pending, { code: 'closed' });
  });

  it('rejects getToken() after close()', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await tokens.getToken();
    tokens.close();
    await assert.rejects(tokens.getToken(), { code: 'closed' });
  });

  it('closes with Symbol.dispose', async (t) => {
    const server = await startTokenServer(t);
    let escaped: TokenManager;
    {
      using tokens = new TokenManager(managerOptions(server));
      escaped = tokens;
      await tokens.getToken();
    }
    await assert.rejects(escaped.getToken(), { code: 'closed' });
  });

  it('survives an event listener that throws', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    tokens.on('tokenIssued', () => {
      throw new Error('listener bug');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.message);
    };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    assert.equal((await tokens.getToken()).tokenType, 'Bearer');
    await until(() => warnings.length > 0);
    // The listener's own message stays out of the warning: only its type is named.
    assert.match(warnings[0] ?? '', /'tokenIssued' listener threw \(Error\)/);
  });

  it('keeps the secret and the token out of errors, inspect and JSON of the token', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    const token = await tokens.getToken();
    for (const text of [
      inspect(token, { showHidden: true, depth: 5 }),
      JSON.stringify(token),
      String(token),
      `${JSON.stringify({ ...token })}`,
    ]) {
      assert.ok(!text.includes(token.accessToken), text);
      assert.ok(!text.includes(clientSecret));
    }
    assert.ok(!inspect(tokens, { showHidden: true, depth: 10 }).includes(clientSecret));
  });
});
