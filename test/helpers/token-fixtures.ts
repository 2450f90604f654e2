import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { MockTokenServer, type MockTokenServerOptions } from '../../src/testing/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { AccessToken, TokenManager } from '../../src/index.js';
import type { TokenManagerOptions, TokenProvider } from '../../src/index.js';

/** A client secret no output of the suite may contain. */
export const clientSecret = 's3cr3t-Value-that-must-never-leak-0123456789';
export const clientId = 'orders-svc';

/** A started MockTokenServer with one registered client, closed after the test. */
export async function startTokenServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start(options);
  server.addClient({ clientId, clientSecret, allowedScopes: ['orders.read', 'orders.write', 'inventory.read'] });
  t.after(() => server.close());
  return server;
}

/** Options pointing a TokenManager at `server` over loopback http. */
export function managerOptions(server: MockTokenServer, extra: TokenManagerOptions = {}): TokenManagerOptions {
  return {
    tokenEndpoint: server.tokenEndpoint,
    clientId,
    clientSecret,
    allowInsecureRequests: true,
    scopes: ['orders.read'],
    ...extra,
  };
}

/** A TokenManager closed after the test. */
export function createManager(t: TestContext, server: MockTokenServer, extra: TokenManagerOptions = {}): TokenManager {
  const manager = new TokenManager(managerOptions(server, extra));
  t.after(() => manager.close());
  return manager;
}

/** `manager` (or anything with a `close()`), closed after the test: for one not built by createManager(). */
export function closeAfterTest<T extends { close(): unknown }>(t: TestContext, manager: T): T {
  t.after(() => manager.close());
  return manager;
}

/**
 * A manual clock starting now, on a whole second (the mock server signs with the same clock). A JWT's
 * `exp` has whole seconds, and a token expires at the earlier of `exp` and `expires_in`: on a whole
 * second the two agree, so tests can pin `expires_in` exactly.
 */
export function createClock(): ManualClock {
  return new ManualClock(Math.floor(Date.now() / 1000) * 1000);
}

/**
 * Settles `promise` while `tokens` sleeps on `clock` between attempts: whenever no token request of
 * `tokens` is in flight and a timer is set, fires the next timer, and so on. Only for scenes where
 * every timer set is one the test wants fired in order.
 */
export async function driveUntilSettled<T>(
  clock: ManualClock,
  tokens: TokenManager,
  promise: Promise<T>,
  maxTimers = 50,
): Promise<{ value?: T; error?: unknown }> {
  let settled: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => (settled = { value }),
    (error: unknown) => (settled = { error }),
  );
  const requestInFlight = (): boolean => {
    return requestsInFlight(tokens) > 0;
  };
  for (let i = 0; i < maxTimers; i++) {
    await until(() => settled !== undefined || (clock.pendingTimers > 0 && !requestInFlight()));
    if (settled !== undefined) return settled;
    await clock.runNext();
  }
  throw new Error(`promise still pending after ${maxTimers} timers`);
}

/** Token requests of `tokens` sent and not yet answered (a token from the shared cache took no request). */
export function requestsInFlight(tokens: TokenManager): number {
  const { tokenRequests, failedTokenRequests, tokensIssued, sharedCacheHits } = tokens.stats();
  return tokenRequests - failedTokenRequests - (tokensIssued - sharedCacheHits);
}

/**
 * Waits until no token request of `tokens` is in flight: the loopback I/O of the requests it started
 * has finished and their outcome is recorded (no clock time passes).
 */
export async function requestsSettled(tokens: TokenManager): Promise<void> {
  await until(() => {
    return requestsInFlight(tokens) === 0;
  });
}

/** Polls `condition` on each event-loop turn until true; fails after `limitMs` of real time. */
export async function until(condition: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Calls `attempt` again and again, one call at a time, a poll of {@link until} apart, until a call
 * resolves: for a state change no event announces (a credential file read again in the background),
 * seen through what callers get. Resolves with that value and the rejections of the calls before it.
 */
export async function untilResolves<T>(
  attempt: () => Promise<T>,
  limitMs = 5_000,
): Promise<{ value: T; rejections: unknown[] }> {
  const rejections: unknown[] = [];
  let outcome: { value: T } | undefined;
  let pending = false;
  await until(() => {
    if (outcome === undefined && !pending) {
      pending = true;
      attempt()
        .then(
          (value) => (outcome = { value }),
          (error: unknown) => void rejections.push(error),
        )
        .finally(() => (pending = false));
    }
    return outcome !== undefined;
  }, limitMs);
  return { value: outcome!.value, rejections };
}

/** A fresh temporary directory, removed with its content after the test. */
export async function createTempDir(t: TestContext, prefix = 'test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A provider that always hands out one DPoP-bound token (as a TokenManager with `dpop` does), an hour from now. */
export function dpopBoundProvider(): { readonly token: AccessToken; readonly tokens: TokenProvider } {
  const token = new AccessToken('dpop-bound-token-value', new Date(Date.now() + 3_600_000), [], 'DPoP');
  return {
    token,
    tokens: { getToken: () => Promise.resolve(token), getCachedToken: () => token, invalidate: () => true },
  };
}
