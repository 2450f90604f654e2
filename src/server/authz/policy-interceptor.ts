// createAuthorizationPolicyInterceptor: the grpc-js server interceptor that decides each call by a
// gRFC A43 authorization policy when its request metadata arrives, before any message or handler.
import {
  ServerInterceptingCall,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { debuglog } from 'node:util';
import { describeThrown } from '../../common/describe.js';
import { Denial, undecided } from '../denial.js';
import { grpcStatusOf } from '../grpc-status.js';
import { identityOf } from '../peer-identity.js';
import { Auditor, type AuditedCall } from './audit-record.js';
import { AuthorizationPolicy, type AuthzPeer, type AuthzRequest, type AuthzVerdict } from './authorization-policy.js';
import { resolvePolicyOptions, type AuthorizationPolicyInterceptorOptions } from './interceptor-options.js';
import { PolicyFileWatcher, type PolicySource } from './policy-file-watcher.js';

const debug = debuglog('grpc-oauth2');
const where = 'createAuthorizationPolicyInterceptor';

/** What a client reads of a refusal: the status details of grpc-go's and C-core's A43 filters, no rule name. */
const policyDenied = new Denial('policy_denied', 'unauthorized RPC request rejected');

/**
 * The interceptor {@link createAuthorizationPolicyInterceptor} returns: a grpc-js `ServerInterceptor`
 * with the name of the policy in effect and `close()`.
 */
export interface AuthorizationPolicyInterceptor extends ServerInterceptor {
  /** The `name` of the policy in effect now (after a reload of `policyFile`, the new one's). */
  readonly policyName: string;
  /** Stops re-reading `policyFile` (its timer never keeps the process alive, so this only stops it early). No-op for `policy`. */
  close(): void;
}

/**
 * A grpc-js (1.10+) server interceptor that authorizes every call by a gRFC A43 authorization policy,
 * the JSON that grpc-go, grpc-java and C++ servers read: `deny_rules` first (any match denies), then
 * `allow_rules` (any match allows), else deny; over the method path, the request headers and the
 * principal of the verified client certificate (URI SANs, else DNS SANs, else the subject: only the
 * first source present counts, as gRFC A41 reads it).
 *
 * The decision is made when the call's metadata arrives, before any request message is read and
 * before the handler runs, on all four call kinds; each call reads the policy in effect once, so a
 * reload never mixes two policies in one decision. A refused call ends `PERMISSION_DENIED` with the
 * details `unauthorized RPC request rejected` and the trailer `grpc-oauth2-reason: policy_denied`
 * (no rule name: that goes to the audit record).
 *
 * What the policy sees of a call:
 * - `request.headers`: the metadata values of a key joined with `", "` (Node's HTTP/2 layer joins a
 *   repeated header so before grpc-js sees it; grpc-go and C-core join with `","`, so an exact or suffix
 *   match over several values may decide differently there). A `-bin` key's values are their decoded
 *   bytes read as UTF-8 (what grpc-go and C-core match), joined the same way: only presence (`*`) is
 *   portable for them.
 * - `source.principals`: the connection is TLS when grpc-js says `transportSecurityType: 'ssl'`. This
 *   package's `createMtlsServerCredentials` says so on TLS without a client certificate too (so `""`
 *   matches such a caller, as A43 wants), while grpc-js's own `ServerCredentials.createSsl` says
 *   nothing there, as on plaintext (so no principal rule, not even `""`, matches): principal rules need
 *   this package's credentials to tell TLS without a certificate from plaintext.
 *
 * Audit logging (gRFC A59): the policy's `audit_logging_options.audit_condition` says which decisions
 * are logged (`NONE`, `ON_DENY`, `ON_ALLOW`, `ON_DENY_AND_ALLOW`), at most one record per call; the
 * built-in `stdout_logger` writes `{"grpc_audit_log":{...}}` lines to stdout, and `onAudit` gets the
 * same frozen record. The record names the method, the caller's SPIFFE ID (else `''`), the policy and
 * the matched rule: never a token.
 *
 * @throws AuthConfigError for a bad option, an invalid policy, or a `policyFile` that cannot be read or
 *   holds an invalid policy, naming the option or file and the problem.
 * @example
 * ```ts
 * const authz = createAuthorizationPolicyInterceptor({ policyFile: '/etc/authz/policy.json', refreshIntervalMs: 60_000 });
 * const server = new grpc.Server({ interceptors: [auth, authz] });
 * ```
 */
export function createAuthorizationPolicyInterceptor(
  options: AuthorizationPolicyInterceptorOptions,
): AuthorizationPolicyInterceptor {
  const { source: given, onAudit, onReload, clock } = resolvePolicyOptions(options, where);
  const source: PolicySource =
    'policy' in given
      ? { current: AuthorizationPolicy.parse(given.policy, where), close: () => undefined }
      : new PolicyFileWatcher({ ...given, clock, onReload, where });
  const auditor = new Auditor(onAudit, () => clock.now());

  const interceptor: ServerInterceptor = (descriptor, nextCall) => {
    const admit = (metadata: Metadata, next: (metadata: Metadata) => void): void => {
      // Read once: the whole decision and its audit record come from this one policy.
      const policy = source.current;
      const request = new GrpcAuthzRequest(descriptor.path, metadata, nextCall);
      let verdict: AuthzVerdict;
      try {
        verdict = policy.evaluate(request);
      } catch (error) {
        // Only a bug of this package reaches it: refuse rather than let the call through.
        debug('%s: policy "%s" could not decide %s (%s)', where, policy.name, request.method, describeThrown(error));
        return call.sendStatus(grpcStatusOf(undecided));
      }
      auditor.audit(policy, request, verdict.allowed, verdict.matchedRule);
      if (verdict.allowed) return next(metadata);
      if (debug.enabled)
        debug(
          'server refused %s: PERMISSION_DENIED policy_denied (policy "%s", rule "%s")',
          request.method,
          policy.name,
          verdict.matchedRule,
        );
      call.sendStatus(grpcStatusOf(policyDenied));
    };
    // Plain objects rather than grpc-js's builders, which cost a builder and a copy per call.
    const call = new ServerInterceptingCall(nextCall, { start: (next) => next({ onReceiveMetadata: admit }) });
    return call;
  };
  return Object.defineProperties(interceptor, {
    policyName: { get: () => source.current.name, enumerable: true },
    close: { value: () => source.close(), enumerable: true },
  }) as AuthorizationPolicyInterceptor;
}

/** One call as the policy and the audit record ask about it: headers and peer read only when asked. */
class GrpcAuthzRequest implements AuthzRequest, AuditedCall {
  #peer: AuthzPeer | undefined;

  constructor(
    readonly method: string,
    private readonly metadata: Metadata,
    private readonly call: ServerInterceptingCallInterface,
  ) {}

  header(key: string): string | undefined {
    const values = this.metadata.get(key);
    if (values.length === 0) return undefined;
    if (values.length === 1) return text(values[0]!);
    return values.map(text).join(', ');
  }

  get peer(): AuthzPeer {
    if (this.#peer !== undefined) return this.#peer;
    const context = this.call.getAuthContext();
    const tls = context?.transportSecurityType === 'ssl';
    return (this.#peer = { tls, identity: tls ? identityOf(context) : undefined });
  }

  spiffeId(): string | undefined {
    return this.peer.identity?.spiffeId;
  }
}

function text(value: string | Buffer): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}
