// Decides one call: public method, or a bearer token that verifies (a DPoP-bound one with its proof),
// has the method's scopes and passes the authorize rule. Synchronous when nothing needs waiting for (public, cached token). No
// transport here: the grpc-js and Connect interceptors hand over the authorization values.
import type { JWTPayload } from 'jose';
import { describeThrown } from '../common/describe.js';
import type { Authenticator } from './authenticator.js';
import { bearerTokenOf, type PresentedToken } from './bearer.js';
import type { Clock } from '../common/clock.js';
import type { CertificateBinding } from './certificate-binding.js';
import { Denial } from './denial.js';
import type { DpopBinding, DpopCall } from './dpop-binding.js';
import type { CommonServerAuthOptions } from './options.js';
import { Policy } from './policy.js';

/** How a call was decided: refused with `denial`, or allowed; `claims` once the token verified. */
export interface Decision {
  readonly denial: Denial | undefined;
  readonly claims: Readonly<JWTPayload> | undefined;
  /** True for a public method, which passed without looking at any token. */
  readonly isPublic: boolean;
}

/** What {@link decide} needs; `Request` is what `authorize` is asked about. */
export interface DecisionParts<Request> {
  readonly policy: Policy;
  readonly authenticator: Authenticator;
  readonly maxTokenBytes: number;
  readonly authorize: CommonServerAuthOptions<Request>['authorize'];
  readonly certificateBinding: CertificateBinding;
  readonly dpopBinding: DpopBinding;
  /** Where a DPoP proof's `iat` is compared with the time. */
  readonly clock: Clock;
}

/** The call being decided, as the transport has it. */
export interface CallToDecide<Request> extends DpopCall {
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  /** Every `authorization` value the call carries. */
  authorization(): readonly unknown[];
  /**
   * The base64url SHA-256 of the verified client certificate of the call's connection (RFC 8705's
   * `x5t#S256`), or `undefined` without one; asked only for a certificate-bound token.
   */
  peerCertificateSha256(): string | undefined;
  /** What `authorize` is asked about, once the token verified and the scopes suffice. */
  authorizeRequest(claims: Readonly<JWTPayload>): Request;
}

const publicCall: Decision = Object.freeze({ denial: undefined, claims: undefined, isPublic: true });

/**
 * The decision for a call to `method` with request `metadata`. Never throws or rejects: whatever
 * goes wrong is a denial. The token is authenticated before the policy is asked whether the method
 * exists, so a caller without a token learns nothing about the policy.
 */
export function decide<Request>(
  parts: DecisionParts<Request>,
  call: CallToDecide<Request>,
): Decision | Promise<Decision> {
  const rule = parts.policy.ruleFor(call.method);
  if (Policy.isPublic(rule)) return publicCall;
  const presented = bearerTokenOf(call.authorization(), parts.maxTokenBytes);
  if (presented instanceof Denial) return refused(presented, undefined);
  const verified = parts.authenticator.check(presented.token);
  return verified instanceof Promise
    ? verified.then((result) => afterVerify(parts, call, rule, presented, result))
    : afterVerify(parts, call, rule, presented, verified);
}

function afterVerify<Request>(
  parts: DecisionParts<Request>,
  call: CallToDecide<Request>,
  rule: ReturnType<Policy['ruleFor']>,
  presented: PresentedToken,
  verified: Readonly<JWTPayload> | Denial,
): Decision | Promise<Decision> {
  if (verified instanceof Denial) return refused(verified, undefined);
  const claims = verified;
  const bindingDenial = parts.certificateBinding.check(claims, call);
  if (bindingDenial !== undefined) return refused(bindingDenial, claims);
  const dpopDenial = parts.dpopBinding.check(claims, presented.token, presented.isDpop, call, parts.clock.now());
  if (dpopDenial instanceof Promise)
    return dpopDenial.then((denial) =>
      denial === undefined ? afterBinding(parts, call, rule, claims) : refused(denial, claims),
    );
  if (dpopDenial !== undefined) return refused(dpopDenial, claims);
  return afterBinding(parts, call, rule, claims);
}

function afterBinding<Request>(
  parts: DecisionParts<Request>,
  call: CallToDecide<Request>,
  rule: ReturnType<Policy['ruleFor']>,
  claims: Readonly<JWTPayload>,
): Decision | Promise<Decision> {
  const scopeDenial = parts.policy.check(call.method, claims, rule);
  if (scopeDenial !== undefined || parts.authorize === undefined)
    return scopeDenial === undefined ? { denial: undefined, claims, isPublic: false } : refused(scopeDenial, claims);
  let answer: unknown;
  try {
    answer = parts.authorize(call.authorizeRequest(claims));
  } catch (err) {
    return refused(authorizeFailed(`threw ${describeThrown(err)}`), claims);
  }
  if (typeof (answer as PromiseLike<unknown> | undefined)?.then === 'function') {
    return Promise.resolve(answer).then(
      (value: unknown) => authorized(value, claims),
      (err: unknown) => refused(authorizeFailed(`rejected with ${describeThrown(err)}`), claims),
    );
  }
  return authorized(answer, claims);
}

function authorized(answer: unknown, claims: Readonly<JWTPayload>): Decision {
  if (answer === true) return { denial: undefined, claims, isPublic: false };
  if (answer === false) return refused(new Denial('authorize_denied', "denied by the server's authorize rule"), claims);
  return refused(authorizeFailed('returned neither true nor false'), claims);
}

function authorizeFailed(what: string): Denial {
  const details = "the server's authorize rule failed";
  return new Denial('authorize_failed', details, [], `${details} (${what})`);
}

function refused(denial: Denial, claims: Readonly<JWTPayload> | undefined): Decision {
  return { denial, claims, isPublic: false };
}
