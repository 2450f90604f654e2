// The issuer's signing keys: jose's remote JWK set, with refetches paced on our clock.
import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
} from 'jose';
import { monotonicNow, type Clock } from '../common/clock.js';
import { SingleFlight } from '../common/single-flight.js';
import { describeEndpoint } from '../token/http/endpoint-url.js';
import { fetchCapped } from './capped-fetch.js';
import { discoverJwksUri } from './discovery.js';
import { KeysUnavailableError } from './keys-unavailable.js';

/** Timing of the key set, in milliseconds. */
export interface KeySetTiming {
  /** Least time between two refetches for an unknown `kid`. */
  readonly refetchCooldownMs: number;
  /** Age after which the keys are refetched in the background, while the cached ones keep serving. */
  readonly maxAgeMs: number;
  /** How long a failed discovery or first fetch is remembered before the next call tries again. */
  readonly retryAfterFailureMs: number;
  /** Bound of each HTTP request. */
  readonly requestTimeoutMs: number;
}

type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

/**
 * The keys that may have signed a token, with the {@link KeySet.generation} of the set they were
 * found in: one, or for a token without `kid` each key of its algorithm's type (at most
 * {@link maxCandidateKeys}).
 */
export interface CandidateKeys {
  readonly keys: readonly [CryptoKey, ...CryptoKey[]];
  readonly generation: number;
}

/**
 * Most keys a token without `kid` is tried against. Real key sets hold one to three keys per type;
 * the bound keeps a forged kid-less token from costing a signature check per key of a large set.
 */
export const maxCandidateKeys = 5;

/** Where the keys come from: a JWKS URL, or the discovery document of an issuer. */
export type KeySource =
  { readonly jwksUri: URL } | { readonly issuer: string; readonly allowInsecureRequests: boolean };

/**
 * Resolves the key of a JWS header. jose's `createRemoteJWKSet` fetches, caches and shares
 * in-flight fetches, but times its cooldown and cache age on `Date.now()`, which neither tests nor
 * this package's clock can drive. So jose is told never to refetch on its own (both durations
 * infinite) and every refetch is decided here: on an unknown `kid` at most once per
 * `refetchCooldownMs` (a flood of forged kids costs one request per cooldown), in the background
 * once the keys are `maxAgeMs` old, and after a failure at most once per `retryAfterFailureMs`. A
 * call whose `kid` is unknown while a refetch is in flight waits for it. Each fetch that succeeds
 * starts a new {@link KeySet.generation}, which ends the verifications remembered from the last.
 */
export class KeySet {
  readonly #source: KeySource;
  readonly #clock: Clock;
  readonly #timing: KeySetTiming;
  #remote: RemoteSet | undefined;
  readonly #discovery = new SingleFlight<RemoteSet>();
  readonly #reload = new SingleFlight<void>();
  /** Monotonic time of the last fetch attempt (discovery included), and of the last failure. */
  #attemptedAt = -Infinity;
  #failedAt = -Infinity;
  #failure: KeysUnavailableError | undefined;
  #generation = 0;
  /**
   * Whether the current remote set has keys. Kept here because jose's `jwks()` answers with a deep
   * copy of the whole set: asking it on every verification cost about 11 µs and 1 KB per call.
   */
  #loaded = false;
  /** The JWKS URL, once known (given, or from discovery), for messages. */
  #jwksUrl: URL | undefined;
  /** The status of the last JWKS answer, for messages. */
  #lastStatus: number | undefined;

  constructor(source: KeySource, clock: Clock, timing: KeySetTiming) {
    this.#source = source;
    this.#clock = clock;
    this.#timing = timing;
  }

  /**
   * How many times the keys were fetched. A verification remembered from an earlier generation is
   * not trusted: its key may have left the set.
   */
  get generation(): number {
    return this.#generation;
  }

  /** Age after which the keys are refetched, in milliseconds; no verification is remembered longer. */
  get maxAgeMs(): number {
    return this.#timing.maxAgeMs;
  }

  /**
   * jose's own resolver of the current set, while it holds keys younger than `maxAgeMs` and no
   * refetch runs: what a verification may use directly, sparing the promise and candidate list of
   * {@link resolve} (about 2 KB per call). A token it finds no single key for goes to {@link resolve}.
   */
  freshResolver(): RemoteSet | undefined {
    if (!this.#loaded || this.#reload.pending !== undefined || this.#age() >= this.#timing.maxAgeMs) return undefined;
    return this.#remote;
  }

  /** The keys that may have signed a token with `header`; what jose's `jwtVerify` resolver asks. */
  async resolve(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CandidateKeys> {
    const remote = this.#remote ?? (await this.#discover());
    if (!this.#loaded) await this.#fetch(remote, this.#timing.retryAfterFailureMs);
    else if (this.#age() >= this.#timing.maxAgeMs) this.#fetch(remote, 0).catch(() => {}); // stale keys keep serving
    try {
      return await this.#lookUp(remote, header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A refetch in flight (the background one of stale keys, another call's for this new kid) may
      // bring the key: wait for it (it is bounded by requestTimeoutMs) rather than refuse.
      const inFlight = this.#reload.pending;
      // Within the cooldown: after a fetch that worked the kid is unknown to the issuer; after one
      // that failed nobody knows, and the call must not be told its token is bad (keys_unavailable).
      if (inFlight === undefined && this.#age() < this.#timing.refetchCooldownMs) throw this.#failure ?? err;
      await (inFlight ?? this.#fetch(remote, 0));
      return await this.#lookUp(remote, header, token);
    }
  }

  /**
   * Discovery and the keys, now: what `ready()` waits for. Keys already held are kept (no refetch).
   *
   * @throws KeysUnavailableError naming the URL that failed and how.
   */
  async load(): Promise<void> {
    const remote = this.#remote ?? (await this.#discover());
    if (!this.#loaded) await this.#fetch(remote, this.#timing.retryAfterFailureMs);
  }

  async #lookUp(remote: RemoteSet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CandidateKeys> {
    // Read before jose looks: it looks in the set it holds now, and a reload counts only once done.
    const generation = this.#generation;
    try {
      return { keys: [await remote(header, token)], generation };
    } catch (err) {
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
      // jose finds several keys for a token without kid (a rotation serves two) and hands them over.
      const keys: CryptoKey[] = [];
      for await (const key of err) if (keys.push(key) === maxCandidateKeys) break;
      const [first, ...others] = keys;
      if (first === undefined) throw err;
      return { keys: [first, ...others], generation };
    }
  }

  #age(): number {
    return monotonicNow(this.#clock) - this.#attemptedAt;
  }

  /** Discovery (or the configured URL) once, shared; a failure within `retryAfterFailureMs` answers at once. */
  #discover(): Promise<RemoteSet> {
    if (this.#discovery.pending === undefined && this.#failedRecently(this.#timing.retryAfterFailureMs))
      return Promise.reject(this.#failure!);
    return this.#discovery.run(async () => {
      this.#attemptedAt = monotonicNow(this.#clock);
      const source = this.#source;
      let url: URL;
      try {
        url =
          'jwksUri' in source
            ? source.jwksUri
            : await discoverJwksUri(source.issuer, source.allowInsecureRequests, this.#timing.requestTimeoutMs);
      } catch (err) {
        throw this.#failed(err, 'issuer discovery');
      }
      this.#jwksUrl = url;
      // Infinite durations: jose never refetches by itself (see the class comment).
      this.#remote = createRemoteJWKSet(url, {
        cooldownDuration: Infinity,
        cacheMaxAge: Infinity,
        timeoutDuration: this.#timing.requestTimeoutMs,
        [customFetch]: async (jwksUrl: string, init: RequestInit) => {
          const response = await fetchCapped(jwksUrl, init, 'JWKS');
          this.#lastStatus = response.status;
          return response;
        },
      });
      return this.#remote;
    });
  }

  /** One shared fetch; a caller needing keys waits for it, and a failure within `windowMs` answers at once. */
  #fetch(remote: RemoteSet, windowMs: number): Promise<void> {
    if (this.#reload.pending === undefined && this.#failedRecently(windowMs)) return Promise.reject(this.#failure!);
    return this.#reload.run(async () => {
      this.#attemptedAt = monotonicNow(this.#clock);
      this.#lastStatus = undefined;
      try {
        await remote.reload();
      } catch (err) {
        throw this.#failed(err, 'JWKS');
      }
      this.#generation++;
      this.#loaded = true;
      this.#failure = undefined;
    });
  }

  #failedRecently(windowMs: number): boolean {
    return this.#failure !== undefined && monotonicNow(this.#clock) - this.#failedAt < windowMs;
  }

  #failed(err: unknown, what: string): KeysUnavailableError {
    const source = this.#source;
    const where = describeEndpoint(this.#jwksUrl ?? ('jwksUri' in source ? source.jwksUri : source.issuer));
    // The HTTP status says more than the name of jose's error ("JOSEError") for an answer that was not 200.
    const how =
      what === 'JWKS' && this.#lastStatus !== undefined && this.#lastStatus !== 200
        ? `answered HTTP ${this.#lastStatus}`
        : `failed (${(err as Error).name})`;
    this.#failedAt = monotonicNow(this.#clock);
    this.#failure = err instanceof KeysUnavailableError ? err : new KeysUnavailableError(`${what} ${where} ${how}`);
    return this.#failure;
  }
}
