// Reports each decision to the user's onDecision hook and, for refusals, to NODE_DEBUG=grpc-oauth2.
import { debuglog } from 'node:util';
import { describeThrown } from '../common/describe.js';
import type { Decision } from './decision.js';
import { statusCode } from './denial.js';
import type { AuthDecision } from './options.js';
import type { PeerIdentity } from './peer-identity.js';

const debug = debuglog('grpc-oauth2');

/**
 * The audit record of `decision`: never the token, and a `subject` only from verified claims; `peer`
 * from `peerOf` (read only when a record is made) when the transport knows the caller's certificate.
 */
function auditRecord(method: string, decision: Decision, peerOf?: () => PeerIdentity | undefined): AuthDecision {
  const { denial, claims, isPublic } = decision;
  return Object.freeze({
    method,
    allowed: denial === undefined,
    code: denial?.code ?? statusCode.OK,
    reason: denial?.reason ?? (isPublic ? 'public' : 'granted'),
    details: denial?.details ?? '',
    internalDetails: denial?.internalDetails ?? '',
    subject: typeof claims?.sub === 'string' ? claims.sub : undefined,
    issuer: typeof claims?.iss === 'string' ? claims.iss : undefined,
    peer: peerOf?.(),
  });
}

/**
 * Gives the record of `decision` to `onDecision`. A hook that throws or rejects never reaches
 * grpc-js or the process: what it threw is logged by name only (its text is not ours to print).
 */
export function report(
  onDecision: ((decision: AuthDecision) => void) | undefined,
  method: string,
  decision: Decision,
  peerOf?: () => PeerIdentity | undefined,
): void {
  const { denial } = decision;
  if (denial !== undefined && debug.enabled)
    debug('server refused %s: %s %s (%s)', method, statusName(denial.code), denial.reason, denial.internalDetails);
  // No hook: no record to build (the common case, on every call).
  if (onDecision === undefined) return;
  const record = auditRecord(method, decision, peerOf);
  try {
    const result: unknown = onDecision(record);
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch((err: unknown) => debug('server onDecision rejected with %s', describeThrown(err)));
    }
  } catch (err) {
    debug('server onDecision threw %s', describeThrown(err));
  }
}

function statusName(code: number): string {
  return Object.entries(statusCode).find(([, value]) => value === code)?.[0] ?? String(code);
}
