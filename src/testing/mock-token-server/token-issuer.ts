// The access tokens the mock issues, JWTs signed with its key or opaque strings it remembers, and what
// it knows of one later: live, expired, revoked or not its own.
import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  createLocalJWKSet,
  errors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Clock } from './http.js';
import { IssuedTokens, type TokenState } from './issued-tokens.js';
import type { MockAccessTokenFormat } from './types.js';

/** `aud` of tokens whose request names no `audience` or `resource`, unless the server's `audience` option says otherwise. */
export const defaultTokenAudience = 'https://api.example.test';

/** How one token answer is shaped; the server's settings, unless a fault changes them. */
export interface TokenShape {
  /** `exp - iat` of the token, JWT or opaque, in seconds. */
  readonly jwtLifetimeSec: number;
  /** `expires_in` of the answer, in seconds; `undefined` leaves it out. */
  readonly expiresInSec: number | undefined;
  /** `issued_token_type` of a token-exchange answer; `undefined`: an access token's. */
  readonly issuedTokenType?: string;
}

/** A token signing key, and its public half as the JWKS endpoint serves it (with `kid`, `alg` and `use`). */
export interface SigningKey {
  readonly signingKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** A fresh signing key for `alg`, with a random `kid`. */
export async function generateSigningKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { signingKey: privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' } };
}

/**
 * Keys of closed servers, by algorithm, for the next server of this process: an RSA key takes about
 * 160 ms of CPU to make, and a test suite starts hundreds of servers. A key is never held by two open
 * servers, and it gets a new `kid` each time it is taken.
 */
const spareKeys: Record<'RS256' | 'ES256', SigningKey[]> = { RS256: [], ES256: [] };
const maxSpareKeys = 8;

/** A signing key for a starting server: a closed server's, under a new `kid`, or a fresh one. */
export async function takeSigningKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const spare = spareKeys[alg].pop();
  if (spare === undefined) return generateSigningKey(alg);
  return { signingKey: spare.signingKey, publicJwk: { ...spare.publicJwk, kid: randomUUID() } };
}

/** Hands the key of a closing server to the next one. */
export function releaseSigningKey(key: SigningKey): void {
  const alg = key.publicJwk.alg;
  const spare = alg === 'RS256' ? spareKeys.RS256 : alg === 'ES256' ? spareKeys.ES256 : undefined;
  if (spare !== undefined && spare.length < maxSpareKeys) spare.push(key);
}

/** Who a token is for, beyond its subject and scopes. */
export interface IssueExtras {
  /** `client_id`; default: the subject. */
  readonly clientId?: string;
  /** Further claims, such as token exchange's `act`. */
  readonly claims?: JWTPayload;
  /** Default: the server's. */
  readonly format?: MockAccessTokenFormat;
}

/**
 * Issues the access tokens: JWTs (RFC 9068 `at+jwt`) or opaque tokens, both standing for the same claims:
 * `iss`, `sub`, `aud`, `scope`, `client_id`, `iat`, `exp`, `jti`.
 */
export class TokenIssuer {
  readonly #issuer: string;
  readonly #defaultAudience: string;
  readonly #defaultFormat: MockAccessTokenFormat;
  #key: SigningKey;
  readonly #clock: Clock;
  readonly #tokens: IssuedTokens;
  #issued = 0;

  constructor(options: {
    issuer: string;
    defaultAudience: string | undefined;
    defaultFormat: MockAccessTokenFormat | undefined;
    key: SigningKey;
    clock: Clock;
  }) {
    this.#issuer = options.issuer;
    this.#defaultAudience = options.defaultAudience ?? defaultTokenAudience;
    this.#defaultFormat = options.defaultFormat ?? 'jwt';
    this.#key = options.key;
    this.#clock = options.clock;
    this.#tokens = new IssuedTokens(options.clock);
  }

  /** The public signing keys, as the JWKS endpoint serves them. */
  get jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.#key.publicJwk }] };
  }

  /** The key tokens are signed with now. */
  get key(): SigningKey {
    return this.#key;
  }

  /** Signs with `key` from now on, and serves only it. */
  rotate(key: SigningKey): void {
    this.#key = key;
  }

  /** Access tokens issued so far. */
  get issuedCount(): number {
    return this.#issued;
  }

  /** The token answer (RFC 6749 §5.1) for `subject` with `scopes`, its audience from the request's `resource` or `audience`. */
  async issue(
    subject: string,
    scopes: readonly string[],
    body: URLSearchParams,
    shape: TokenShape,
    extra: IssueExtras = {},
  ): Promise<Record<string, unknown>> {
    const nowSec = Math.floor(this.#clock.now() / 1000);
    const resources = body.getAll('resource');
    // RFC 8707: several resources make an audience of several.
    const audience = resources.length > 1 ? resources : (resources[0] ?? body.get('audience') ?? this.#defaultAudience);
    const scope = scopes.join(' ');
    const claims: JWTPayload = {
      ...extra.claims,
      scope,
      client_id: extra.clientId ?? subject,
      iss: this.#issuer,
      sub: subject,
      aud: audience,
      iat: nowSec,
      exp: nowSec + shape.jwtLifetimeSec,
      jti: randomUUID(),
    };
    const accessToken =
      (extra.format ?? this.#defaultFormat) === 'opaque'
        ? this.#tokens.issueOpaque(claims)
        : await new SignJWT(claims)
            .setProtectedHeader({ alg: this.#key.publicJwk.alg!, kid: this.#key.publicJwk.kid!, typ: 'at+jwt' })
            .sign(this.#key.signingKey);
    this.#issued++;
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: shape.expiresInSec,
      scope: scope || undefined,
    };
  }

  /**
   * The claims of a JWT this server signed with its current key (signature, `iss`, `exp` on the
   * server's clock). Rejects with a jose error otherwise; revocation is not checked.
   */
  async verifyJwt(token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks), {
      issuer: this.#issuer,
      currentDate: new Date(this.#clock.now()),
    });
    return payload;
  }

  /**
   * The claims of `token` as a resource server reads them: a JWT through {@link verifyJwt}, an opaque
   * token from what the server remembers while it is live. The error never holds the token.
   */
  async verify(token: string): Promise<JWTPayload> {
    const opaque = this.#tokens.opaqueState(token);
    if (opaque.state === 'unknown') return this.verifyJwt(token);
    if (opaque.state === 'expired')
      throw new errors.JWTExpired('the opaque access token has expired', opaque.claims, 'exp', 'check_failed');
    if (opaque.state === 'revoked') throw new Error('the opaque access token was revoked');
    return { ...opaque.claims };
  }

  /** What the server knows of `token` now: an opaque token it remembers, or a JWT that verifies with its key. */
  async stateOf(token: string): Promise<TokenState> {
    const opaque = this.#tokens.opaqueState(token);
    if (opaque.state !== 'unknown') return opaque;
    try {
      const claims = await this.verifyJwt(token);
      return { state: this.#tokens.isRevokedJwt(token) ? 'revoked' : 'live', claims };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { state: 'expired', claims: err.payload };
      return { state: 'unknown' };
    }
  }

  /** Revokes `token`, live with `claims`: introspection answers `active: false` for it from now on. */
  revoke(token: string, claims: JWTPayload): void {
    this.#tokens.revoke(token, claims.exp);
  }
}
