// Certificate-bound access tokens (RFC 8705 §3): a token whose `cnf` names a certificate thumbprint
// is accepted only from a connection that presented that certificate, and the methods that take
// bound tokens only.
import type { JWTPayload } from 'jose';
import { AuthConfigError } from '../common/config-error.js';
import { Denial } from './denial.js';
import { policyPath, serviceOf } from './policy.js';

const mismatch = new Denial(
  'certificate_mismatch',
  'bearer token is bound to a client certificate this connection did not present',
);
const notBound = new Denial('token_not_bound', 'this method needs a token bound to the client certificate (RFC 8705)');
const badConfirmation = new Denial('invalid_claims', 'bearer token has a malformed cnf claim');

/** A SHA-256 thumbprint in base64url, as `x5t#S256` holds it: 43 characters. */
const thumbprint = /^[A-Za-z0-9_-]{43}$/;

/** The call whose token's binding is checked (the decision's call). */
export interface BoundCall {
  /** The full method path. */
  readonly method: string;
  /** The base64url SHA-256 of the connection's verified client certificate, `undefined` without one. */
  peerCertificateSha256(): string | undefined;
}

/** Which methods take certificate-bound tokens only, and the check of every token's binding. */
export class CertificateBinding {
  readonly #all: boolean;
  readonly #methods = new Set<string>();
  readonly #services = new Set<string>();

  /**
   * @param requireBoundTokens - the option: `true` for every method, or full method paths and
   *   `'/package.Service/*'` wildcards; `false` or `undefined` for none.
   * @param where - the factory whose option this is, for messages.
   */
  constructor(requireBoundTokens: unknown, where: string) {
    this.#all = requireBoundTokens === true;
    if (requireBoundTokens === undefined || typeof requireBoundTokens === 'boolean') return;
    if (!Array.isArray(requireBoundTokens))
      throw new AuthConfigError(`${where}: requireBoundTokens must be true, false or an array of full method paths`);
    for (const path of requireBoundTokens as unknown[]) {
      if (typeof path !== 'string' || !policyPath.test(path))
        throw new AuthConfigError(
          `${where}: requireBoundTokens entry ${JSON.stringify(path)} is not a full method path like "/package.Service/Method" or "/package.Service/*"`,
        );
      if (path.endsWith('/*')) this.#services.add(serviceOf(path));
      else this.#methods.add(path);
    }
  }

  /** Whether `method` takes certificate-bound tokens only. */
  #requiredFor(method: string): boolean {
    return this.#all || this.#methods.has(method) || this.#services.has(serviceOf(method));
  }

  /**
   * The denial for verified `claims` on `call`, or `undefined` when the binding holds. The call's
   * certificate thumbprint is asked for only when the token is bound.
   */
  check(claims: Readonly<JWTPayload>, call: BoundCall): Denial | undefined {
    const confirmation: unknown = claims.cnf;
    if (confirmation === undefined) return this.#requiredFor(call.method) ? notBound : undefined;
    if (typeof confirmation !== 'object' || confirmation === null || Array.isArray(confirmation))
      return badConfirmation;
    const bound: unknown = (confirmation as Record<string, unknown>)['x5t#S256'];
    // A cnf of another kind (a DPoP key's `jkt`) does not bind the token to a certificate.
    if (bound === undefined) return this.#requiredFor(call.method) ? notBound : undefined;
    if (typeof bound !== 'string') return badConfirmation;
    // A connection's thumbprint is always well-formed: the pattern is needed only to tell a malformed
    // claim from a mismatch, after the comparison.
    if (call.peerCertificateSha256() === bound) return undefined;
    return thumbprint.test(bound) ? mismatch : badConfirmation;
  }
}
