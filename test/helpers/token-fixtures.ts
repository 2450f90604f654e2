import type { TestContext } from 'node:test';
import { MockTokenServer, type MockTokenServerOptions } from '../../src/testing/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { TokenManager } from '../../src/index.js';
import type { TokenManagerOptions } from '../../src/index.js';

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
    const { tokenRequests, failedTokenRequests, tokensIssued } = tokens.stats();
    return tokenRequests > failedTokenRequests + tokensIssued;
  };
  for (let i = 0; i < maxTimers; i++) {
    await until(() => settled !== undefined || (clock.pendingTimers > 0 && !requestInFlight()));
    if (settled !== undefined) return settled;
    await clock.runNext();
  }
  throw new Error(`promise still pending after ${maxTimers} timers`);
}

/**
 * Waits until no token request of `tokens` is in flight: the loopback I/O of the requests it started
 * has finished and their outcome is recorded (no clock time passes).
 */
export async function requestsSettled(tokens: TokenManager): Promise<void> {
  await until(() => {
    const { tokenRequests, failedTokenRequests, tokensIssued } = tokens.stats();
    return tokenRequests === failedTokenRequests + tokensIssued;
  });
}

/** Lets a loopback HTTP exchange in progress finish (a few event-loop turns, no fixed sleep). */
export async function waitForIo(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `condition` on each event-loop turn until true; fails after `limitMs` of real time. */
export async function until(condition: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
