import { inspect } from 'node:util';

const redacted = '[redacted]';

/**
 * An access token as {@link TokenManager.getToken} returns it. `accessToken` is readable as a
 * property, but the object redacts it from `util.inspect`, `JSON.stringify` and `String()`, so logging
 * a token object never leaks the token.
 */
export class AccessToken {
  /** The bearer token to put in `authorization: Bearer <accessToken>`. Never log it. */
  declare readonly accessToken: string;
  /** Always `'Bearer'`: other token types are rejected. */
  readonly tokenType = 'Bearer' as const;
  /** When the token stops being valid, by the token endpoint's `expires_in` counted from the request. */
  readonly expiresAt: Date;
  /** The scopes granted: the answer's `scope`, else the scopes requested. */
  readonly scopes: readonly string[];

  /** @internal */
  constructor(accessToken: string, expiresAt: Date, scopes: readonly string[]) {
    // Non-enumerable so that spreading, JSON and inspect skip it.
    Object.defineProperty(this, 'accessToken', { value: accessToken, enumerable: false });
    this.expiresAt = expiresAt;
    this.scopes = Object.freeze([...scopes]);
    Object.freeze(this);
  }

  /** The fields safe to log: everything but the token. */
  toJSON(): { tokenType: 'Bearer'; expiresAt: string; scopes: readonly string[]; accessToken: string } {
    return { tokenType: this.tokenType, expiresAt: this.expiresAt.toISOString(), scopes: this.scopes, accessToken: redacted };
  }

  /** A log-safe description; the token is redacted. */
  toString(): string {
    return `AccessToken(Bearer ${redacted}, expires ${this.expiresAt.toISOString()}, scopes: ${this.scopes.join(' ') || '-'})`;
  }

  /** @internal */
  [inspect.custom](): string {
    return this.toString();
  }
}
