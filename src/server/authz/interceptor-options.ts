// The options of createAuthorizationPolicyInterceptor, and their checks: one policy source (the policy
// itself, or a file re-read every refreshIntervalMs), the audit and reload hooks, the clock.
import type { Clock } from '../../common/clock.js';
import { AuthConfigError } from '../../common/config-error.js';
import { describeType } from '../../common/describe.js';
import {
  checkClock,
  checkFunction,
  checkNonEmptyString,
  checkNumber,
  checkOptionNames,
} from '../../common/option-checks.js';
import type { AuditRecord } from './audit-record.js';

/** What `onReload` is told after each re-read of `policyFile` that found new bytes. */
export type PolicyReloadEvent =
  /** The file's new policy is in effect, with its audit settings, for every call from now on. */
  | { readonly ok: true; readonly policyName: string }
  /**
   * The file could not be read, or holds no valid policy: the last good policy (and its audit settings)
   * stays. `error` names the file and the problem, never the file's contents.
   */
  | { readonly ok: false; readonly error: AuthConfigError };

/**
 * Options of `createAuthorizationPolicyInterceptor`: exactly one of `policy` and `policyFile`.
 *
 * @example
 * ```ts
 * const options: AuthorizationPolicyInterceptorOptions = { policyFile: '/etc/authz/policy.json', refreshIntervalMs: 60_000 };
 * ```
 */
export interface AuthorizationPolicyInterceptorOptions {
  /**
   * The gRFC A43 policy: its JSON text, or the object `JSON.parse` makes of it. Checked at
   * construction. Not with `policyFile`.
   */
  policy?: string | object;
  /**
   * Path of a file holding the A43 policy as JSON (UTF-8), read at construction and again every
   * `refreshIntervalMs`: changed bytes holding a valid policy replace the policy (and its audit
   * settings) for every later call; anything else keeps the last good one and is reported (`onReload`,
   * a `GRPC_OAUTH2_POLICY_NOT_RELOADED` process warning). Not with `policy`.
   */
  policyFile?: string;
  /**
   * How often `policyFile` is re-read, in milliseconds: required with `policyFile` (no default, as in
   * grpc-go and C-core; A43's examples use 3_600_000, one hour), a whole number from 100 to
   * 86_400_000. Not with `policy`.
   */
  refreshIntervalMs?: number;
  /**
   * Called with the A59 audit record of every decision the policy's `audit_condition` asks to log,
   * whatever `audit_loggers` the policy lists (`stdout_logger` or none): for the application's own
   * logger. Synchronous, on the call's path; what it throws is ignored (a `NODE_DEBUG=grpc-oauth2`
   * line). Default: none.
   */
  onAudit?: (record: AuditRecord) => void;
  /**
   * Called after each re-read of `policyFile` that found changed bytes (and when the file is missing
   * or unreadable at two reads in a row): a new policy in effect, or why the last good one stays. Once
   * per distinct bad content or read failure. What it throws is ignored. Default: none.
   */
  onReload?: (event: PolicyReloadEvent) => void;
  /** Where time comes from (the re-read timer, audit timestamps); a `ManualClock` in tests. Default: the system clock. */
  clock?: Clock;
}

/** The options, checked. */
export interface ResolvedPolicyOptions {
  readonly source: { readonly policy: unknown } | { readonly policyFile: string; readonly refreshIntervalMs: number };
  readonly onAudit: ((record: AuditRecord) => void) | undefined;
  readonly onReload: ((event: PolicyReloadEvent) => void) | undefined;
  readonly clock: Clock;
}

const optionNames: readonly (keyof AuthorizationPolicyInterceptorOptions)[] = [
  'policy',
  'policyFile',
  'refreshIntervalMs',
  'onAudit',
  'onReload',
  'clock',
];

/**
 * Checks `options`.
 *
 * @throws AuthConfigError naming the option: an unknown name, a wrong type, both or neither of
 *   `policy` and `policyFile`, `refreshIntervalMs` missing with `policyFile`, out of range, or with `policy`.
 */
export function resolvePolicyOptions(options: unknown, where: string): ResolvedPolicyOptions {
  checkOptionNames(options, optionNames, `${where} option`);
  const given = (options ?? {}) as AuthorizationPolicyInterceptorOptions;
  const hasPolicy = given.policy !== undefined;
  const hasFile = given.policyFile !== undefined;
  if (hasPolicy === hasFile)
    throw new AuthConfigError(
      `${where}: give exactly one of policy (the A43 policy's JSON text or object) and policyFile, not ${hasPolicy ? 'both' : 'neither'}`,
    );
  const hooks = {
    clock: checkClock(given.clock, `${where}: clock`),
    onAudit: checkFunction<ResolvedPolicyOptions['onAudit']>(given.onAudit, `${where}: onAudit`),
    onReload: checkFunction<ResolvedPolicyOptions['onReload']>(given.onReload, `${where}: onReload`),
  };
  if (hasPolicy) {
    if (given.refreshIntervalMs !== undefined)
      throw new AuthConfigError(`${where}: refreshIntervalMs goes with policyFile, not with policy`);
    const { policy } = given;
    if (typeof policy !== 'string' && (typeof policy !== 'object' || policy === null || Array.isArray(policy)))
      throw new AuthConfigError(
        `${where}: policy must be the A43 policy's JSON text or its object, not ${describeType(policy)}`,
      );
    return { source: { policy }, ...hooks };
  }
  const policyFile = checkNonEmptyString(given.policyFile, `${where}: policyFile`);
  if (given.refreshIntervalMs === undefined)
    throw new AuthConfigError(
      `${where}: refreshIntervalMs is required with policyFile (milliseconds between re-reads of the file, e.g. 60_000)`,
    );
  const refreshIntervalMs = checkNumber(given.refreshIntervalMs, `${where}: refreshIntervalMs`, 0, {
    min: 100,
    max: 86_400_000,
    integer: true,
  });
  return { source: { policyFile, refreshIntervalMs }, ...hooks };
}
