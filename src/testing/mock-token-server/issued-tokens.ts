// What the mock remembers of the access tokens it issued: the claims of its opaque tokens, which only it
// can read, and which tokens of either format were revoked. Tokens are kept by their SHA-256, never as
// themselves, so no dump of the server's memory shows one.
import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Clock } from './http.js';

/** Most tokens remembered (opaque tokens and revoked JWTs together); past it the oldest are forgotten. */
export const maxRememberedTokens = 10_000;
/** Random bytes of an opaque token: 256 bits, 43 base64url characters, as oidc-provider issues them. */
const opaqueTokenBytes = 32;

/** What the mock knows of one token. */
interface Remembered {
  /** The claims of an opaque token; `undefined` for a revoked JWT. */
  readonly claims: JWTPayload | undefined;
  /** Seconds since the epoch after which the entry is of no use. */
  readonly exp: number;
  revoked: boolean;
}

/** The state of a token the mock issued, as introspection and revocation read it. */
export type TokenState =
  { readonly state: 'unknown' } | { readonly state: 'revoked' | 'expired' | 'live'; readonly claims: JWTPayload };

/** The opaque tokens issued and the tokens revoked, bounded in number. */
export class IssuedTokens {
  readonly #tokens = new Map<string, Remembered>();
  readonly #clock: Clock;
  readonly #capacity: number;

  /** @param capacity - most tokens remembered; default {@link maxRememberedTokens}. */
  constructor(clock: Clock, capacity = maxRememberedTokens) {
    this.#clock = clock;
    this.#capacity = capacity;
  }

  /** A new opaque token standing for `claims` (which must carry `exp`). */
  issueOpaque(claims: JWTPayload): string {
    const token = randomBytes(opaqueTokenBytes).toString('base64url');
    this.#remember(hashOf(token), { claims, exp: claims.exp!, revoked: false });
    return token;
  }

  /** The state of an opaque token now: `'unknown'` for one never issued, or forgotten. */
  opaqueState(token: string): TokenState {
    const entry = this.#tokens.get(hashOf(token));
    if (entry?.claims === undefined) return { state: 'unknown' };
    const state = entry.revoked ? 'revoked' : this.#expired(entry) ? 'expired' : 'live';
    return { state, claims: entry.claims };
  }

  /** Whether the JWT `token` was revoked. */
  isRevokedJwt(token: string): boolean {
    return this.#tokens.get(hashOf(token))?.revoked === true;
  }

  /**
   * Marks `token` revoked: an opaque token this store holds, or a verified JWT (`jwtExp` its `exp`,
   * after which the revocation need not be remembered).
   */
  revoke(token: string, jwtExp?: number): void {
    const key = hashOf(token);
    const entry = this.#tokens.get(key);
    if (entry !== undefined) entry.revoked = true;
    else if (jwtExp !== undefined) this.#remember(key, { claims: undefined, exp: jwtExp, revoked: true });
  }

  #remember(key: string, entry: Remembered): void {
    if (this.#tokens.size >= this.#capacity) this.#forget();
    this.#tokens.set(key, entry);
  }

  /** Makes room: drops every expired entry, else the oldest. */
  #forget(): void {
    for (const [key, entry] of this.#tokens) if (this.#expired(entry)) this.#tokens.delete(key);
    if (this.#tokens.size >= this.#capacity) this.#tokens.delete(this.#tokens.keys().next().value!);
  }

  /** As jose reads a JWT's `exp`: expired from that second on. */
  #expired(entry: Remembered): boolean {
    return entry.exp <= Math.floor(this.#clock.now() / 1000);
  }
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
