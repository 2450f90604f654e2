import { status, type Metadata, type StatusObject } from '@grpc/grpc-js';
import { configuredScopes } from '../../token/scopes.js';
import type { MethodPlan } from '../../calls/method-plan.js';
import type { Attempt } from '../attempt.js';
import type { SentToken } from '../bearer-header.js';

/**
 * What the interceptor knew about a call that ended for a reason a token may explain: the facts
 * {@link explainAuthFailure} builds its answer from. Kept only for such calls, never on success.
 *
 * @internal
 */
export interface CallRecord {
  /** The full method path, `/pkg.Service/Method`. */
  readonly method: string;
  readonly code: status;
  /** The scopes the call asked for; `undefined` when unknown (a provider that is not a TokenManager). */
  readonly scopesRequested: readonly string[] | undefined;
  /** The token object sent (ours), if any. Holds the token: never put the record itself in output. */
  readonly sentToken: SentToken | undefined;
  /** The caller's metadata or per-call credentials carried their own `authorization`. */
  readonly callerAuthorization: boolean;
  /** What the token provider failed with when no token could be attached. */
  readonly failure: unknown;
  /** The call ended (deadline, cancellation) while it still waited for its token. */
  readonly endedWaiting: boolean;
  /** The call was made a second time, with a fresh token, after `UNAUTHENTICATED`. */
  readonly replayed: boolean;
  /** When the call ended, in ms since the epoch. */
  readonly endedAtMs: number;
}

/**
 * Records by the status's `metadata` object: grpc-js builds the caller's error with
 * `Object.assign(new Error(), status)`, so `error.metadata` is that same object, while the status
 * object and the error are not (docs/grpc-js-facts.md, "A failed call's error carries the status metadata object").
 * Weak, so a record lives exactly as long as the error that can be explained with it.
 */
const records = new WeakMap<Metadata, CallRecord>();

/** Codes a token can explain: the server's refusals, and a failure or wait on the token itself. */
const authCodes = new Set<status>([status.UNAUTHENTICATED, status.PERMISSION_DENIED]);
const tokenStepCodes = new Set<status>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

/**
 * Keeps what `attempt` knew for a call that ends with `callStatus`, when a token may explain it:
 * `UNAUTHENTICATED` and `PERMISSION_DENIED` always; `UNAVAILABLE` and `DEADLINE_EXCEEDED` only when
 * the token step itself failed or was still pending. Costs one set lookup for any other status.
 *
 * @internal
 * @example
 * ```ts
 * recordCallEnd(callStatus, plan, attempt, replayed, '/orders.v1.Orders/Get');
 * ```
 */
export function recordCallEnd(
  callStatus: StatusObject,
  plan: MethodPlan,
  attempt: Attempt,
  replayed: boolean,
  method: string,
): void {
  const { code, metadata } = callStatus;
  if (!authCodes.has(code) && !(tokenStepCodes.has(code) && (attempt.failure !== undefined || attempt.endedWaiting)))
    return;
  if (typeof metadata !== 'object' || metadata === null) return;
  records.set(metadata, {
    method,
    code,
    scopesRequested: plan.getTokenOptions?.scopes ?? configuredScopes.get(plan.tokens),
    sentToken: attempt.sentToken,
    callerAuthorization: attempt.callerAuthorization,
    failure: attempt.failure,
    endedWaiting: attempt.endedWaiting,
    replayed,
    endedAtMs: Date.now(),
  });
}

/**
 * The record of the call that ended with `error` (a grpc-js `ServiceError`), if our interceptor kept one.
 *
 * @internal
 * @example
 * ```ts
 * const record = callRecordOf(err); // undefined for an error of another kind
 * ```
 */
export function callRecordOf(error: unknown): CallRecord | undefined {
  const metadata = (error as { metadata?: unknown } | null | undefined)?.metadata;
  return typeof metadata === 'object' && metadata !== null ? records.get(metadata as Metadata) : undefined;
}
