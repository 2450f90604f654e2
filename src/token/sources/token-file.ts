import { decodeJwt, decodeProtectedHeader } from 'jose';
import { checkNonEmptyString, checkOptionNames } from '../../common/option-checks.js';
import type { Clock } from '../../common/clock.js';
import { RotatingFile } from '../credentials/rotating-file.js';
import { maxLifetimeSec } from '../http/token-response.js';
import type { TokenManagerOptions } from '../options.js';
import { RecentSecrets } from '../../common/redact.js';
import type { SourcedToken, TokenSource } from '../token-source.js';
import type { SourceSettings } from './create-source.js';

/**
 * Options of {@link TokenManager.fromTokenFile}: how the token is cached and refreshed. The file
 * holds one token, so there is nothing to choose about the client, scopes or audience.
 */
export type TokenFileOptions = Pick<
  TokenManagerOptions,
  'refreshBeforeExpiryMs' | 'defaultLifetimeMs' | 'retry' | 'maxWaitMs' | 'clock'
>;

// A record, so the compiler checks the names against the type both ways.
const optionNames = Object.keys({
  refreshBeforeExpiryMs: true,
  defaultLifetimeMs: true,
  retry: true,
  maxWaitMs: true,
  clock: true,
} satisfies Record<keyof TokenFileOptions, true>);

/** What may go in an `authorization: Bearer` value (RFC 6750 §2.1 b64token). */
const bearerToken = /^[A-Za-z0-9\-._~+/]+=*$/;
/** How every compact JWS and JWE begins: the base64url of `{"`. */
const jwtStart = 'eyJ';

/**
 * The access token another agent keeps fresh in a file (a sidecar, the platform), as gRPC's token
 * file call credentials (gRFC A97) serve it. No HTTP: each fetch reads the file (again only when it
 * changed), takes the expiry from the JWT's `exp` (an opaque token lives `defaultLifetimeMs` from
 * when it was read), and never hands out an expired token.
 *
 * A missing, empty or expired file is a retryable `config` TokenError (gRPC calls end `UNAVAILABLE`:
 * the writer may be late); content that cannot be a bearer token is a fatal one (`UNAUTHENTICATED`).
 */
class TokenFileSource implements TokenSource {
  readonly endpoint: string;
  readonly #file: RotatingFile;
  readonly #clock: Clock;
  readonly #defaultLifetimeMs: number;
  readonly #served = new RecentSecrets(2);

  constructor(path: string, clock: Clock, defaultLifetimeMs: number) {
    this.#file = new RotatingFile(path, { what: 'token file', retryable: true });
    this.endpoint = `token file ${path}`;
    this.#clock = clock;
    this.#defaultLifetimeMs = defaultLifetimeMs;
  }

  async fetchToken(): Promise<SourcedToken> {
    const accessToken = await this.#file.read();
    this.#served.remember(accessToken);
    if (!bearerToken.test(accessToken))
      throw this.#file.error('does not hold a bearer token (it has spaces or characters a token cannot have)', false);
    // A writer that does not rename into place lets a read catch its file half-written: never serve that.
    if (accessToken.startsWith(jwtStart) && !isWholeJwt(accessToken))
      throw this.#file.error(
        'holds the start of a JWT but not a whole one (a write caught half-way?); it is read again soon',
        true,
      );
    const now = this.#clock.now();
    const claims = jwtClaims(accessToken);
    if (claims?.exp === undefined)
      return { accessToken, expiresAt: new Date(now + this.#defaultLifetimeMs), scopes: claims?.scopes };
    const expiresAtMs = claims.exp * 1000;
    if (expiresAtMs <= now) {
      throw this.#file.error(
        `holds a token that expired at ${new Date(expiresAtMs).toISOString()}; whatever writes the file has stopped refreshing it`,
      );
    }
    if (expiresAtMs - now > maxLifetimeSec * 1000)
      throw this.#file.error(`holds a token whose exp is more than ${maxLifetimeSec} s ahead`, false);
    return { accessToken, expiresAt: new Date(expiresAtMs), scopes: claims.scopes };
  }

  /**
   * Every fetch checks the file (inode, size, modification time) anyway; this forces a full read, which
   * the manager asks for after `invalid_client` / `invalid_grant` and while a fatal failure is remembered.
   */
  reloadCredentials(): Promise<boolean> {
    return this.#file.reload();
  }

  /** The tokens read lately: a token is as secret as a password, and an error must not carry one. */
  secretValues(): Iterable<string> {
    return this.#served.forms();
  }
}

/**
 * The source of {@link TokenManager.fromTokenFile}, made from the manager's settings; its path and options are checked now.
 * @throws AuthConfigError for a bad path or an option that does not apply to a token file.
 */
export function tokenFileSource(
  path: unknown,
  options: TokenFileOptions,
): (settings: SourceSettings) => TokenFileSource {
  checkOptionNames(options, optionNames, 'fromTokenFile option');
  const checkedPath = checkNonEmptyString(path, 'fromTokenFile path');
  return ({ http, defaultLifetimeMs }) => new TokenFileSource(checkedPath, http.clock, defaultLifetimeMs);
}

/**
 * Whether `token`, which begins like a JWT, is a whole one: a JWS of three parts whose header and
 * payload are JSON and whose signature is there (empty only with `alg: none`) and of a length base64url
 * can have, or a JWE of five parts with its IV, ciphertext and tag. A write cut inside the signature
 * cannot be told from a whole token without the key; the resource server refuses that one.
 */
function isWholeJwt(token: string): boolean {
  const parts = token.split('.');
  try {
    const header = decodeProtectedHeader(token);
    if (parts.length === 5) return typeof header.enc === 'string' && parts.slice(2).every((part) => part !== '');
    decodeJwt(token);
    const signature = parts[2] ?? '';
    return header.alg === 'none' ? signature === '' : signature !== '' && signature.length % 4 !== 1;
  } catch {
    return false;
  }
}

/** A JWT's `exp` and `scope` (unverified: the resource server verifies it; we only need to know when to re-read). */
function jwtClaims(token: string): { exp?: number; scopes?: string[] } | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp, scope } = decodeJwt(token);
    return {
      exp: typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined,
      scopes: typeof scope === 'string' && scope.trim() !== '' ? scope.trim().split(/\s+/) : undefined,
    };
  } catch {
    return undefined;
  }
}
