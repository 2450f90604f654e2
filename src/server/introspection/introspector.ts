// Opaque tokens: one issuer's introspection endpoint (RFC 7662), with its answers cached by the
// token's hash, one request per token at a time, and a bound on the requests a flood can cause.
import type { JWTPayload } from 'jose';
import type { Clock } from '../../common/clock.js';
import { describeThrown } from '../../common/describe.js';
import { SingleFlight } from '../../common/single-flight.js';
import { Denial } from '../denial.js';
import { VerifiedTokenCache } from '../verified-cache.js';
import { validUntilMs, type Verified } from '../verifier.js';
import { claimsOfAnswer } from './answer-claims.js';
import { IntrospectionClient, IntrospectionUnavailableError } from './introspection-client.js';
import type { ResolvedIntrospectionOptions } from './options.js';

/** What an {@link Introspector} needs: the issuer's checks and the server's bounds, and its `introspection` options. */
export interface IntrospectorSettings {
  /** The issuer (compared exactly with an answer's `iss`; the claims' `iss` when the answer has none). */
  readonly issuer: string;
  /** An answer's `aud`, when it has one, must name one of these. */
  readonly audience: readonly string[];
  /** Allowed clock skew for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSec: number;
  /** Bound of each discovery and introspection request, body included, in milliseconds. */
  readonly requestTimeoutMs: number;
  readonly allowInsecureRequests: boolean;
  readonly clock: Clock;
  /** Most active answers remembered; refusals get a tenth of it (rounded up), in a bound of their own. `0` remembers none. */
  readonly maxCachedTokens: number;
  readonly introspection: ResolvedIntrospectionOptions;
}

/** What a client refused `introspection_unavailable` is told; the server's logs get which endpoint failed, and how. */
const unavailable = 'the server cannot check bearer tokens right now; try again later';

/** Answers have no key set whose refetch would end them: one generation, forever. */
const noKeys = Object.freeze({ generation: 0 });

/**
 * Decides opaque tokens of one issuer with its introspection endpoint (openid-client's
 * `tokenIntrospection`), authenticated as the `introspection` options say.
 *
 * - An answer `active: false` refuses the token `UNAUTHENTICATED` (`token_inactive`). An active answer
 *   passes the checks a JWT does where it has the field (`iss`, `aud`, `exp`, `nbf`, with the clock
 *   tolerance); its fields but `active` are the claims, `scope` included, and `iss` is the issuer's.
 * - Answers are remembered by the token's hash, never the token: an active one until its `exp` (plus
 *   the tolerance) and at most `cacheMaxSec`, among `maxCachedTokens` (the least recently used goes);
 *   one that refuses the token for `inactiveCacheSec`, in a separate bound of `maxCachedTokens / 10`,
 *   so that a flood of made-up tokens cannot push out the good answers. A remembered answer is used
 *   while the endpoint is down, never past its bound.
 * - Any number of concurrent calls with one token cause one request.
 * - The endpoint down, slow (past `requestTimeoutMs`), answering an error or something that is not
 *   an introspection answer, or refusing this server's credentials: `UNAVAILABLE`
 *   (`introspection_unavailable`); the token is not at fault.
 * - A flood of distinct tokens: at most `maxConcurrentRequests` requests are in flight; a call that
 *   would start one more is refused `introspection_unavailable` at once. With the refusals
 *   remembered, a token sent again costs no request until `inactiveCacheSec` has passed.
 *
 * @internal
 * @example
 * ```ts
 * const introspector = new Introspector({ issuer, audience, clockToleranceSec: 30, requestTimeoutMs: 5000,
 *   allowInsecureRequests: false, clock: systemClock, maxCachedTokens: 10_000,
 *   introspection: resolveIntrospectionOptions(entry.introspection, 'createServerAuthInterceptor: issuers[2]', false) });
 * await introspector.ready(); // optional: discovery and the credential now
 * const verified = introspector.introspect(token, VerifiedTokenCache.keyOf(token)); // claims or a Denial, or a promise of one
 * ```
 */
export class Introspector {
  readonly #settings: IntrospectorSettings;
  readonly #client: IntrospectionClient;
  readonly #active: VerifiedTokenCache;
  /** Refusals, each remembered as `{ denial }` in the same kind of cache as the active answers. */
  readonly #refused: VerifiedTokenCache;
  /** The request in flight for each key. */
  readonly #flights = new Map<string, SingleFlight<Verified>>();

  constructor(settings: IntrospectorSettings) {
    this.#settings = settings;
    const { issuer, introspection, requestTimeoutMs, allowInsecureRequests, clock, maxCachedTokens } = settings;
    this.#client = new IntrospectionClient({
      issuer,
      endpoint: introspection.endpoint,
      client: introspection.client,
      requestTimeoutMs,
      allowInsecureRequests,
      clock,
    });
    this.#active = new VerifiedTokenCache(maxCachedTokens);
    this.#refused = new VerifiedTokenCache(Math.ceil(maxCachedTokens / 10));
  }

  /**
   * The claims of `token`, or why it is refused; synchronous when a remembered answer decides it.
   *
   * @param key - `VerifiedTokenCache.keyOf(token)`, computed once per call by the caller.
   */
  introspect(token: string, key: string): Verified | Promise<Verified> {
    const now = this.#settings.clock.now();
    const claims = this.#active.get(key, now);
    if (claims !== undefined) return claims;
    const refusal = this.#refused.get(key, now);
    if (refusal !== undefined) return refusal.denial as Denial;
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      const { maxConcurrentRequests } = this.#settings.introspection;
      if (this.#flights.size >= maxConcurrentRequests) return this.#overloaded(maxConcurrentRequests);
      flight = new SingleFlight<Verified>();
      this.#flights.set(key, flight);
    }
    return flight.run(async () => {
      try {
        return await this.#ask(token, key);
      } finally {
        this.#flights.delete(key);
      }
    });
  }

  /**
   * Discovers the introspection endpoint now (when not configured) and checks that the credential can
   * be read and used (a secret or key file, a private key).
   *
   * @throws IntrospectionUnavailableError naming the issuer and what failed.
   */
  async ready(): Promise<void> {
    try {
      await this.#client.ready();
    } catch (err) {
      const reason = err instanceof IntrospectionUnavailableError ? err.message : describeThrown(err);
      throw new IntrospectionUnavailableError(`issuer ${JSON.stringify(this.#settings.issuer)}: ${reason}`);
    }
  }

  async #ask(token: string, key: string): Promise<Verified> {
    let answer: Readonly<Record<string, unknown>>;
    try {
      answer = await this.#client.introspect(token);
    } catch (err) {
      const reason = err instanceof IntrospectionUnavailableError ? err.message : `failed (${describeThrown(err)})`;
      return new Denial('introspection_unavailable', unavailable, [], `introspection unavailable: ${reason}`);
    }
    const { clock, introspection } = this.#settings;
    const now = clock.now();
    const verified = claimsOfAnswer(answer, this.#settings, now);
    if (!(verified instanceof Denial)) {
      if (introspection.cacheMaxSec > 0) this.#active.set(key, verified, this.#validUntilMs(verified, now), noKeys, 0);
    } else if (introspection.inactiveCacheSec > 0 && verified.reason !== 'token_not_yet_valid') {
      // A token not yet valid becomes valid at its nbf; every other refusal holds for the token's life.
      this.#refused.set(
        key,
        Object.freeze({ denial: verified }),
        now + introspection.inactiveCacheSec * 1000,
        noKeys,
        0,
      );
    }
    return verified;
  }

  /** The earlier of the answer's `exp` plus the tolerance and `cacheMaxSec` from now, in wall-clock milliseconds. */
  #validUntilMs(claims: Readonly<JWTPayload>, nowMs: number): number {
    const { clockToleranceSec, introspection } = this.#settings;
    const boundMs = nowMs + introspection.cacheMaxSec * 1000;
    return Math.min(boundMs, validUntilMs(claims, clockToleranceSec));
  }

  #overloaded(maxConcurrentRequests: number): Denial {
    return new Denial(
      'introspection_unavailable',
      unavailable,
      [],
      `introspection unavailable: maxConcurrentRequests (${maxConcurrentRequests}) requests to ${this.#client.endpoint} already in flight; refused without asking`,
    );
  }
}
