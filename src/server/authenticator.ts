// Authenticates a bearer token: a JWT goes by its `iss` to that issuer's verifier, an opaque token to
// the issuer that introspects it; whatever verified is remembered in one cache for every issuer.
import type { JWTPayload } from 'jose';
import type { Clock } from '../common/clock.js';
import { isB64Token, isCompactJws } from './bearer.js';
import { Denial } from './denial.js';
import { Introspector } from './introspection/introspector.js';
import { KeySet } from './key-set.js';
import type { ResolvedIssuer } from './issuer-options.js';
import type { ResolvedOptions } from './options.js';
import { VerifiedTokenCache } from './verified-cache.js';
import { TokenVerifier, unknownIssuer, unverifiedIssuerOf, validUntilMs, type Verified } from './verifier.js';

/** What checks opaque tokens for one issuer (RFC 7662 introspection). */
export interface OpaqueTokenChecker {
  /** Checks `token`, whose cache key is `key`; synchronous when its answer is cached. */
  introspect(token: string, key: string): Verified | Promise<Verified>;
  /** Gets ready to answer (finds the endpoint, reads the credential); rejects saying what failed. */
  ready(): Promise<void>;
}

/** An issuer that takes opaque tokens: those starting with one of `prefixes`, or all when `undefined`. */
export interface OpaqueRoute {
  readonly issuer: string;
  readonly prefixes: readonly string[] | undefined;
  readonly checker: OpaqueTokenChecker;
}

/** Why a call with an opaque token is refused when no issuer introspects it. */
const notJwt = new Denial(
  'malformed_token',
  'bearer token is not a signed JWT',
  [],
  'bearer token is not a signed JWT, and no issuer introspects opaque tokens (configure introspection if the issuer issues opaque access tokens)',
);
const notAToken = new Denial('malformed_token', 'bearer token is not a valid token');

/**
 * The issuers' verifiers and introspectors behind one interceptor. A JWT's unverified `iss` only
 * chooses whose keys and settings verify it: a forged `iss` reaches an issuer whose keys did not sign
 * it, and fails there; an `iss` no issuer has is refused without any request.
 */
export class Authenticator {
  readonly #cache: VerifiedTokenCache;
  readonly #verifiers = new Map<string, TokenVerifier>();
  /** The verifier of the only issuer, when there is one. */
  readonly #only: TokenVerifier | undefined;
  readonly #opaque: readonly OpaqueRoute[];
  /** Issuers whose jwksUri is configured. */
  readonly #jwksGiven: ReadonlySet<string>;
  readonly #clock: Clock;
  readonly #cacheOff: boolean;
  readonly #clockToleranceSec: number;

  constructor(settings: Omit<ResolvedOptions, 'authorize'>) {
    this.#cache = new VerifiedTokenCache(settings.maxCachedTokens);
    this.#clock = settings.clock;
    this.#cacheOff = settings.maxCachedTokens === 0;
    this.#clockToleranceSec = settings.clockToleranceSec;
    this.#opaque = settings.issuers.flatMap((issuer) => opaqueRouteOf(issuer, settings));
    this.#jwksGiven = new Set(
      settings.issuers.flatMap(({ issuer, jwksUri }) => (jwksUri === undefined ? [] : [issuer])),
    );
    for (const issuer of settings.issuers)
      this.#verifiers.set(
        issuer.issuer,
        new TokenVerifier({ ...settings, ...issuer, keys: keysOf(issuer, settings), cache: this.#cache }),
      );
    this.#only = this.#verifiers.size === 1 ? [...this.#verifiers.values()][0] : undefined;
  }

  /** Checks `token`: synchronous when it verified before and still may be trusted. Never throws. */
  check(token: string): Verified | Promise<Verified> {
    // With the cache off (maxCachedTokens: 0) a JWT needs no key: the hash is spared (about 2 µs).
    const key = this.#cacheOff ? '' : VerifiedTokenCache.keyOf(token);
    const cached = this.#cacheOff ? undefined : this.#cache.get(key, this.#clock.now());
    if (cached !== undefined) return cached;
    if (!isB64Token(token)) return notAToken;
    if (!isCompactJws(token))
      // Introspection needs the key even then: concurrent calls with one token share one request by it.
      return this.#opaqueRouteOf(token)?.checker.introspect(token, key || VerifiedTokenCache.keyOf(token)) ?? notJwt;
    // One issuer: its verifier reads the iss itself only when it must (before any request), sparing
    // a decode of the token (about 5 µs) on every verification.
    if (this.#only !== undefined) return this.#only.verify(token, key, false);
    const issuer = unverifiedIssuerOf(token);
    if (issuer instanceof Denial) return issuer;
    const verifier = typeof issuer === 'string' ? this.#verifiers.get(issuer) : undefined;
    return verifier === undefined ? unknownIssuer : verifier.verify(token, key, true);
  }

  /**
   * When a token verified at `claims` stops being valid, in wall-clock milliseconds: its `exp` plus
   * the clock tolerance; `Infinity` for an introspected token whose answer had no `exp`.
   */
  validUntilMs(claims: Readonly<JWTPayload>): number {
    return validUntilMs(claims, this.#clockToleranceSec);
  }

  /**
   * Fetches every issuer's discovery document and keys, and readies every introspection, now.
   * Rejects with an Error naming each issuer that failed and why (never a secret).
   */
  async ready(): Promise<void> {
    const jobs = [
      ...[...this.#verifiers]
        // An issuer that introspects may issue no JWTs (its discovery document may list no jwks_uri):
        // its keys are fetched up front only when jwksUri names them.
        .filter(([issuer]) => !this.#opaque.some((route) => route.issuer === issuer) || this.#jwksGiven.has(issuer))
        .map(([issuer, verifier]) => ({ issuer, job: verifier.keys.load() })),
      ...this.#opaque.map(({ issuer, checker }) => ({ issuer, job: checker.ready() })),
    ];
    const results = await Promise.allSettled(jobs.map(({ job }) => job));
    const failures = results.flatMap((result, index) => {
      if (result.status === 'fulfilled') return [];
      const named = `issuer ${JSON.stringify(jobs[index]!.issuer)}`;
      const message = (result.reason as Error).message;
      return [message.includes(named) ? message : `${named}: ${message}`];
    });
    if (failures.length > 0) throw new Error(`the server is not ready: ${failures.join('; ')}`);
  }

  #opaqueRouteOf(token: string): OpaqueRoute | undefined {
    return this.#opaque.find(
      ({ prefixes }) => prefixes === undefined || prefixes.some((prefix) => token.startsWith(prefix)),
    );
  }
}

function opaqueRouteOf(issuer: ResolvedIssuer, settings: Omit<ResolvedOptions, 'authorize'>): OpaqueRoute[] {
  const { introspection } = issuer;
  if (introspection === undefined) return [];
  const checker = new Introspector({ ...settings, issuer: issuer.issuer, audience: issuer.audience, introspection });
  return [{ issuer: issuer.issuer, prefixes: introspection.tokenPrefixes, checker }];
}

function keysOf(issuer: ResolvedIssuer, settings: Omit<ResolvedOptions, 'authorize'>): KeySet {
  const source =
    issuer.jwksUri !== undefined
      ? { jwksUri: issuer.jwksUri }
      : { issuer: issuer.issuer, allowInsecureRequests: settings.allowInsecureRequests };
  return new KeySet(source, settings.clock, {
    refetchCooldownMs: settings.jwksRefetchCooldownSec * 1000,
    // jose's own default cache age, kept on our clock; a failed first fetch is retried after 5 s.
    maxAgeMs: 600_000,
    retryAfterFailureMs: 5_000,
    requestTimeoutMs: settings.requestTimeoutMs,
  });
}
