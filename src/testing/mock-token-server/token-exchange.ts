// The token-exchange grant (RFC 8693): the issuers whose JWTs the server takes as subject and actor
// tokens, and the check of one exchange request.
import type { JWTPayload } from 'jose';
import { unverifiedClaims, verifierOf, type AssertionVerifier } from './assertions.js';
import type { TrustedJwtIssuer } from './client-auth.js';
import { OAuthFailure } from './http.js';
import type { LogEntry, MockTrustedIssuer } from './types.js';

/** The `grant_type` of RFC 8693 §2.1. */
export const tokenExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The token types the mock accepts as subject and actor tokens: JWTs of some kind (RFC 8693 §3). */
const jwtTokenTypes = [
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:access_token',
];
/** What the mock issues, whatever `requested_token_type` asks for. */
export const issuedTokenType = 'urn:ietf:params:oauth:token-type:access_token';

/** A verified exchange: who the subject is, and who acts for it. */
export interface VerifiedExchange {
  readonly subject: string;
  readonly actor?: string;
}

/** The issuers whose JWTs may be exchanged, by `iss`. */
export class SubjectTokenIssuers {
  readonly #issuers = new Map<string, TrustedJwtIssuer>();

  /** @param assertions - checks signature, audience and time, as for client assertions. */
  constructor(readonly assertions: AssertionVerifier) {}

  /** Trusts `issuer`, replacing one with the same `iss`. */
  add(issuer: MockTrustedIssuer): void {
    this.#issuers.set(issuer.issuer, {
      issuer: issuer.issuer,
      audience: issuer.audience,
      ...verifierOf(issuer.publicKey),
    });
  }

  /** Checks the subject (and actor) token of `body`; an `invalid_request` or `invalid_grant` failure otherwise. */
  async verify(body: URLSearchParams, entry: LogEntry): Promise<VerifiedExchange> {
    const subjectType = body.get('subject_token_type');
    if (subjectType !== null) entry.subjectTokenType = subjectType;
    const subject = await this.#verifyToken(body.get('subject_token'), subjectType, 'subject');
    entry.subject = subject.sub!;
    const actorType = body.get('actor_token_type');
    if (actorType !== null) entry.actorTokenType = actorType;
    if (!body.has('actor_token')) {
      if (actorType !== null) throw new OAuthFailure(400, 'invalid_request', 'actor_token_type without actor_token');
      return { subject: subject.sub! };
    }
    const actor = await this.#verifyToken(body.get('actor_token'), actorType, 'actor');
    return { subject: subject.sub!, actor: actor.sub! };
  }

  async #verifyToken(token: string | null, type: string | null, role: 'subject' | 'actor'): Promise<JWTPayload> {
    if (token === null || token === '') throw new OAuthFailure(400, 'invalid_request', `${role}_token is missing`);
    if (type === null) throw new OAuthFailure(400, 'invalid_request', `${role}_token_type is missing`);
    if (!jwtTokenTypes.includes(type))
      throw new OAuthFailure(400, 'invalid_request', `${role}_token_type ${type} is not supported`);
    const claimed = unverifiedClaims(token)?.iss;
    const issuer = claimed === undefined ? undefined : this.#issuers.get(claimed);
    if (issuer === undefined)
      throw new OAuthFailure(400, 'invalid_grant', `${role}_token is from an issuer this server does not trust`);
    try {
      return await this.assertions.verify(token, issuer.verifyKey, issuer.verifyAlgorithms, {
        issuer: issuer.issuer,
        audience: issuer.audience,
        requiredClaims: ['exp', 'sub'],
      });
    } catch {
      throw new OAuthFailure(400, 'invalid_grant', `${role}_token is invalid or expired`);
    }
  }
}
