// gRFC A59 audit logging for the A43 interceptor: which decisions a policy's audit_condition logs, the
// record (never a token: the principal is the peer's SPIFFE ID), the built-in stdout_logger's line and
// the application's onAudit hook.
import { debuglog } from 'node:util';
import { describeThrown } from '../../common/describe.js';
import type { AuthorizationPolicy } from './authorization-policy.js';

const debug = debuglog('grpc-oauth2');

/**
 * One audited decision, as gRFC A59 names its fields (and in its order). Frozen.
 *
 * @example
 * ```ts
 * // { timestamp: '2026-12-08T00:26:31.123Z', rpc_method: '/admin.v1.Admin/Reset',
 * //   principal: 'spiffe://example.com/ns/ops/sa/admin', policy_name: 'orders', matched_rule: 'admins', authorized: true }
 * ```
 */
export interface AuditRecord {
  /** When the call was decided: UTC, RFC 3339 with milliseconds and `Z` (`2026-12-08T00:26:31.123Z`). */
  readonly timestamp: string;
  /** The full method path, `/package.Service/Method`. */
  readonly rpc_method: string;
  /**
   * The caller's SPIFFE ID (the verified client certificate's only URI SAN, a `spiffe://` one), else `''`:
   * a caller known by a DNS SAN or subject, or without a certificate, is audited as `''` (as in grpc-go
   * and C-core). Never a token or another header.
   */
  readonly principal: string;
  /** The policy's `name`. */
  readonly policy_name: string;
  /** The bare name of the rule that decided (the first matching one in file order), `''` when none matched. */
  readonly matched_rule: string;
  /** Whether the call was allowed. */
  readonly authorized: boolean;
}

/** The decision to audit: what {@link Auditor.audit} needs of a call. */
export interface AuditedCall {
  readonly method: string;
  /** The caller's SPIFFE ID, read only when a record is made. */
  spiffeId(): string | undefined;
}

/** Makes and hands out audit records: to `stdout_logger` when the policy lists it, and to `onAudit`. */
export class Auditor {
  constructor(
    private readonly onAudit: ((record: AuditRecord) => void) | undefined,
    private readonly now: () => number,
  ) {}

  /** Logs the decision when `policy`'s audit condition asks for it: at most one record per call. */
  audit(policy: AuthorizationPolicy, call: AuditedCall, allowed: boolean, matchedRule: string): void {
    if (!(allowed ? policy.auditsAllowed : policy.auditsDenied)) return;
    const toStdout = policy.auditsToStdout;
    if (!toStdout && this.onAudit === undefined) return;
    // Built in A59's key order, which JSON.stringify keeps: timestamp first.
    const record: AuditRecord = Object.freeze({
      timestamp: new Date(this.now()).toISOString(),
      rpc_method: call.method,
      principal: call.spiffeId() ?? '',
      policy_name: policy.name,
      matched_rule: matchedRule,
      authorized: allowed,
    });
    if (toStdout) writeStdoutLine(record);
    if (this.onAudit !== undefined) {
      try {
        this.onAudit(record);
      } catch (err) {
        debug('authorization policy onAudit threw %s', describeThrown(err));
      }
    }
  }
}

/** A59's `stdout_logger`: `{"grpc_audit_log":{...}}` and a newline on stdout. */
function writeStdoutLine(record: AuditRecord): void {
  try {
    process.stdout.write(`${JSON.stringify({ grpc_audit_log: record })}\n`);
  } catch (err) {
    // A closed stdout must not fail the call or reach grpc-js.
    debug('authorization policy stdout_logger could not write (%s)', describeThrown(err));
  }
}
