// The claims of an introspection answer (RFC 7662 §2.2), checked as a JWT's are.
import { UnsecuredJWT, type JWTPayload } from 'jose';
import { Denial } from '../denial.js';
import { denialOf } from '../verifier.js';

/** What an active answer must satisfy, where it has the field. */
export interface AnswerChecks {
  /** The configured issuer: `iss`, when the answer has one, must be it exactly. */
  readonly issuer: string;
  /** `aud`, when the answer has one (a string or an array), must name one of these. */
  readonly audience: readonly string[];
  /** Allowed clock skew for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSec: number;
}

/** The refusal of a token the endpoint says is not active (revoked, expired, unknown, or not for this client to see). */
export const inactive = new Denial('token_inactive', 'bearer token is not active');

/** The header of an unsecured JWT, `{"alg":"none"}`, base64url-encoded. */
const unsecuredHeader = 'eyJhbGciOiJub25lIn0';

/**
 * The claims of `answer` (its fields but `active`, with `iss` set to the configured issuer when it has
 * none), deep-frozen; or why the token is refused: {@link inactive} for `active: false`, else the
 * denial a JWT with these claims gets (`wrong_issuer`, `wrong_audience`, `token_expired`,
 * `token_not_yet_valid`, `invalid_claims` for an `exp`, `nbf` or `iat` that is not a number).
 *
 * The checks are jose's own (`UnsecuredJWT.decode` validates a claims set as `jwtVerify` does), given
 * the answer as an unsigned JWT: an answer and a JWT are judged by one implementation, to the second
 * and the tolerance. Its cost, a few microseconds, is paid once per introspection request.
 *
 * @param nowMs - wall-clock time to judge `exp` and `nbf` by, in milliseconds since the epoch.
 */
export function claimsOfAnswer(
  answer: Readonly<Record<string, unknown>>,
  checks: AnswerChecks,
  nowMs: number,
): Readonly<JWTPayload> | Denial {
  if (answer.active !== true) return inactive;
  const fields: Record<string, unknown> = { ...answer };
  delete fields.active;
  // JSON of the answer, which openid-client parsed: a number such as 1e400 was read as Infinity and is
  // written back as null, which jose then refuses as not a number.
  const json = JSON.stringify(fields);
  try {
    UnsecuredJWT.decode(`${unsecuredHeader}.${Buffer.from(json).toString('base64url')}.`, {
      issuer: 'iss' in fields ? checks.issuer : undefined,
      audience: 'aud' in fields ? [...checks.audience] : undefined,
      clockTolerance: checks.clockToleranceSec,
      currentDate: new Date(nowMs),
    });
  } catch (err) {
    return denialOf(err);
  }
  // A fresh copy, frozen to the last member: the claims of a cached answer are shared by every call
  // that carries the token, and a handler that pushed to one would change them for all.
  const claims = JSON.parse(json, (_name, value: unknown) =>
    typeof value === 'object' && value !== null ? Object.freeze(value) : value,
  ) as JWTPayload;
  return 'iss' in claims ? claims : Object.freeze({ ...claims, iss: checks.issuer });
}
