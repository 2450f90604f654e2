import { inspect } from 'node:util';

const redacted = '[redacted]' as const;

/** What {@link AccessToken.toJSON} gives: everything but the token, which reads `"[redacted]"`. */
export interface AccessTokenJson {
  readonly tokenType: 'Bearer' | 'DPoP';
  /** ISO 8601. */
  readonly expiresAt: string;
  readonly scopes: readonly string[];
  readonly accessToken: typeof redacted;
}

/**
 * An access token as {@link TokenManager.getToken} returns it. `accessToken` is readable as a
 * property, but the object redacts it from `util.inspect`, `JSON.stringify` and `String()`, so logging
 * a token object never leaks the token.
 *
 * A hand-written `TokenProvider` builds its tokens with the constructor.
 *
 * @example
 * ```ts
 * const token = new AccessToken(value, new Date(Date.now() + 3_600_000), ['orders.read']);
 * console.log(token); // AccessToken(Bearer [redacted], expires ..., scopes: orders.read)
 * ```
 */
export class AccessToken {
  /** The token to put in `authorization: Bearer <accessToken>` (`DPoP <accessToken>` when {@link tokenType} is `'DPoP'`). Never log it. */
  declare readonly accessToken: string;
  /**
   * `'Bearer'`, or `'DPoP'` for a token bound to the `dpop` option's key (RFC 9449), which is sent as
   * `authorization: DPoP <token>` with a proof, never as a bearer token. Other types are rejected.
   */
  readonly tokenType: 'Bearer' | 'DPoP';
  /** When the token stops being valid (wall clock). */
  readonly expiresAt: Date;
  /** The scopes granted: the answer's `scope`, else the scopes requested. */
  readonly scopes: readonly string[];

  /**
   * @param accessToken - the token value; kept off enumeration, JSON and inspect.
   * @param expiresAt - when it stops being valid.
   * @param scopes - the scopes it grants. Default none.
   * @param tokenType - `'Bearer'` or `'DPoP'`. Default `'Bearer'`.
   */
  constructor(
    accessToken: string,
    expiresAt: Date,
    scopes: readonly string[] = [],
    tokenType: 'Bearer' | 'DPoP' = 'Bearer',
  ) {
    // Non-enumerable so that spreading, JSON and inspect skip it.
    Object.defineProperty(this, 'accessToken', { value: accessToken, enumerable: false });
    this.tokenType = tokenType;
    this.expiresAt = expiresAt;
    this.scopes = Object.freeze([...scopes]);
    Object.freeze(this);
  }

  /** The fields safe to log: everything but the token. */
  toJSON(): AccessTokenJson {
    return {
      tokenType: this.tokenType,
      expiresAt: this.expiresAt.toISOString(),
      scopes: this.scopes,
      accessToken: redacted,
    };
  }

  /** A log-safe description; the token is redacted. */
  toString(): string {
    return `AccessToken(${this.tokenType} ${redacted}, expires ${this.expiresAt.toISOString()}, scopes: ${this.scopes.join(' ') || '-'})`;
  }

  /** Same as {@link AccessToken.toString}, for `util.inspect` and `console.log`. */
  [inspect.custom](): string {
    return this.toString();
  }
}
