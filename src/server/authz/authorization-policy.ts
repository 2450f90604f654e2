// gRPC's SDK authorization policy (gRFC A43) as this package reads it: the policy JSON checked and
// compiled once, and the decision for one call. No transport here: the grpc-js interceptor hands over
// the method, the headers and the peer.
import type { PeerIdentity } from '../peer-identity.js';
import { readPolicy } from './policy-schema.js';
import { RuleList } from './rules.js';

/** What the policy knows of the caller's connection. */
export interface AuthzPeer {
  /**
   * Whether the connection is TLS. On plaintext no `source.principals` rule matches, not even `""`;
   * on TLS without a verified client certificate only `""` does.
   */
  readonly tls: boolean;
  /** The verified client certificate (URI SANs, DNS SANs, subject), when there is one. */
  readonly identity: PeerIdentity | undefined;
}

/** One call, as the policy is asked about it. */
export interface AuthzRequest {
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  /**
   * The value of request header `key` (lower case), several values joined as grpc-js gives them
   * (Node's HTTP/2 layer joins repeated headers with `", "`); `undefined` when absent. A `-bin`
   * key's value is matched in whatever string form this returns: only presence (`*`) decides the
   * same as in grpc-go and C-core (which compare the decoded bytes) for binary headers.
   */
  header(key: string): string | undefined;
  readonly peer: AuthzPeer;
}

/** The decision for one call. */
export interface AuthzVerdict {
  readonly allowed: boolean;
  /** The name of the rule that decided (a deny rule that matched, or an allow rule that matched); `''` when none matched. */
  readonly matchedRule: string;
}

/** A59's audit conditions. */
export type AuditCondition = 'NONE' | 'ON_DENY' | 'ON_ALLOW' | 'ON_DENY_AND_ALLOW';

/** One entry of `audit_logging_options.audit_loggers`, checked. */
export interface AuditLoggerEntry {
  /** The logger type; `'stdout_logger'` is the one built in. */
  readonly name: string;
  /** Its `config` object (default `{}`). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly isOptional: boolean;
}

/**
 * A checked, compiled A43 policy. Immutable: a reloaded file gives a new one, swapped in one
 * assignment, so that a call is decided by one policy, deny and allow rules alike.
 */
export class AuthorizationPolicy {
  /** The policy's `name`. */
  readonly name: string;
  /** `audit_logging_options.audit_condition`; `'NONE'` when absent. */
  readonly auditCondition: AuditCondition;
  /** The loggers to give each audited decision to: known ones only (an unknown optional one is left out). */
  readonly auditLoggers: readonly AuditLoggerEntry[];
  /** Whether allowed calls are audited (`ON_ALLOW`, `ON_DENY_AND_ALLOW`). */
  readonly auditsAllowed: boolean;
  /** Whether denied calls are audited (`ON_DENY`, `ON_DENY_AND_ALLOW`). */
  readonly auditsDenied: boolean;
  /** Whether the policy lists the built-in `stdout_logger`. */
  readonly auditsToStdout: boolean;
  readonly #denyRules: RuleList;
  readonly #allowRules: RuleList;

  private constructor(
    name: string,
    auditCondition: AuditCondition,
    auditLoggers: readonly AuditLoggerEntry[],
    denyRules: RuleList,
    allowRules: RuleList,
  ) {
    this.name = name;
    this.auditCondition = auditCondition;
    this.auditLoggers = auditLoggers;
    this.auditsAllowed = auditCondition === 'ON_ALLOW' || auditCondition === 'ON_DENY_AND_ALLOW';
    this.auditsDenied = auditCondition === 'ON_DENY' || auditCondition === 'ON_DENY_AND_ALLOW';
    this.auditsToStdout = auditLoggers.some((logger) => logger.name === 'stdout_logger');
    this.#denyRules = denyRules;
    this.#allowRules = allowRules;
    Object.freeze(this);
  }

  /**
   * Checks and compiles `policy`, the JSON text (at most 1 MiB) or its parsed object. Nothing of the
   * object is kept: changing it afterwards changes nothing.
   *
   * @param where - what to name in messages (`createAuthorizationPolicyInterceptor`, or the file).
   * @throws AuthConfigError naming what is wrong and where (`allow_rules[0].request.headers[1].key`).
   */
  static parse(policy: unknown, where: string): AuthorizationPolicy {
    const spec = readPolicy(policy, where);
    return new AuthorizationPolicy(
      spec.name,
      spec.audit.condition,
      spec.audit.loggers,
      new RuleList(spec.denyRules, false),
      new RuleList(spec.allowRules, true),
    );
  }

  /**
   * Deny rules first (any match denies), then allow rules (any match allows), else deny. When several
   * rules of a list match, the verdict names the first in file order (grpc-go names whichever its map
   * gives first, C-core the first by name). The verdicts are built when the policy loads and frozen:
   * a call allocates nothing here.
   */
  evaluate(request: AuthzRequest): AuthzVerdict {
    return this.#denyRules.firstMatch(request) ?? this.#allowRules.firstMatch(request) ?? noRuleMatched;
  }
}

const noRuleMatched: AuthzVerdict = Object.freeze({ allowed: false, matchedRule: '' });
