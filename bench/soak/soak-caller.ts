// One caller of the soak: a getToken(), then the token used as a resource server would check it.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { AccessToken, TokenManager } from '../../src/index.js';
import type { ManualClock } from '../../src/testing/index.js';
import type { SoakScopeSet } from './soak-clients.js';
import type { SoakTally } from './tally.js';

/** What callers share. */
export interface CallerContext {
  readonly clock: ManualClock;
  readonly managers: readonly TokenManager[];
  readonly tally: SoakTally;
  /** The `kid` the token server signs with now: what the resource server accepts. */
  readonly signingKid: () => string;
  /** Adds a line to the run's digest. */
  readonly record: (line: string) => void;
}

/**
 * Calls `getToken()` for `set`, and follows the call to its end. A token the resource server refuses
 * (its signing key was rotated out) is invalidated, as the gRPC interceptor does after
 * `UNAUTHENTICATED`, and asked for once more (`isRetry`).
 */
export async function call(context: CallerContext, set: SoakScopeSet, isRetry = false): Promise<void> {
  const { clock, tally } = context;
  const manager = context.managers[set.manager]!;
  const startedMs = clock.monotonicNow();
  const promise = set.scopes === undefined ? manager.getToken() : manager.getToken({ scopes: set.scopes });
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  // A cached token resolves in a promise job or two; a call that takes longer waited.
  await Promise.resolve();
  await Promise.resolve();
  const record = tally.callStarted(set.manager, set.key, startedMs, !settled);
  let token: AccessToken | undefined;
  let error: unknown;
  try {
    token = await promise;
  } catch (err) {
    error = err ?? new Error('rejected without a reason');
  }
  const endedMs = clock.monotonicNow();
  tally.callEnded(record, endedMs, error);
  context.record(`call ${startedMs} ${endedMs} ${set.manager} ${set.key} ${token ? 'ok' : 'failed'}`);
  if (token === undefined) return;
  if ((decodeJwt(token.accessToken).exp ?? 0) * 1000 <= endedMs) tally.expiredTokensServed++;
  if (decodeProtectedHeader(token.accessToken).kid === context.signingKid()) return;
  tally.rotatedOutTokensServed++;
  if (manager.invalidate(token.accessToken)) tally.tokenDropped(set.manager, set.key);
  if (!isRetry) await call(context, set, true);
}
