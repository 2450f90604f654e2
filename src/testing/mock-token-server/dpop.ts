// DPoP (RFC 9449) at the mock's token endpoint: the check of a request's proof (§4.3), the key
// thumbprint a bound token carries as `cnf.jkt` (§6.1), and the server nonce (§8).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { asymmetricAlgorithms, privateJwkMembers } from '../../common/jws-algorithms.js';
import { maxJtiLength } from '../../server/dpop-proof.js';
import { DpopReplayCache } from '../../server/dpop-replay-cache.js';
import { OAuthFailure, type Clock } from './http.js';
import type { LogEntry } from './types.js';

/**
 * The algorithms a proof may be signed with, asymmetric only, as discovery lists them
 * (`dpop_signing_alg_values_supported`).
 */
export const dpopAlgorithms: readonly string[] = asymmetricAlgorithms;
/** {@link dpopAlgorithms} as jose takes them. */
const verifyAlgorithms: string[] = [...dpopAlgorithms];
/** How far a proof's `iat` may be from the server's clock, either way, in seconds. */
export const dpopProofWindowSec = 60;
/** Most `jti` values remembered; past it the oldest are forgotten (they are past the `iat` window soon anyway). */
const maxRememberedJtis = 10_000;

/** Checks the DPoP proofs of token requests, remembers their `jti` values, and keeps the nonce. */
export class DpopVerifier {
  readonly #clock: Clock;
  /** `jti` of each accepted proof, until it can no longer be replayed (out of the `iat` window). */
  readonly #replays = new DpopReplayCache(maxRememberedJtis);
  #nonce: string | undefined;

  constructor(clock: Clock, requireNonce: boolean) {
    this.#clock = clock;
    if (requireNonce) this.rotateNonce();
  }

  /** Requires a nonce from now on, a fresh one that replaces the last; returns it. */
  rotateNonce(): string {
    this.#nonce = randomBytes(16).toString('base64url');
    return this.#nonce;
  }

  /** The nonce proofs must carry, or `undefined` when none is required. */
  get nonce(): string | undefined {
    return this.#nonce;
  }

  /**
   * The thumbprint of the key `req`'s proof is signed with, or `undefined` without a `DPoP` header.
   * Throws `invalid_dpop_proof` for a bad proof and `use_dpop_nonce` (with a `DPoP-Nonce` header) for
   * a proof without the current nonce. The proof is never put into a message or the log.
   * @param htu - the token endpoint URL of the listener the request came to.
   */
  async check(req: IncomingMessage, htu: string, entry: LogEntry): Promise<string | undefined> {
    const values = req.headersDistinct.dpop;
    if (values === undefined) return undefined;
    entry.dpop = true;
    if (values.length !== 1) throw invalidProof('more than one DPoP header');
    const proof = values[0]!;
    let jwk: JWK;
    let payload: Record<string, unknown>;
    try {
      jwk = decodeProtectedHeader(proof).jwk ?? {};
      if (privateJwkMembers.some((member) => member in jwk)) throw invalidProof('the jwk holds a private key');
      ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: verifyAlgorithms,
        currentDate: new Date(this.#clock.now()),
      }));
    } catch (err) {
      if (err instanceof OAuthFailure) throw err;
      throw invalidProof(`the proof does not verify (${(err as { code?: string }).code ?? 'malformed'})`);
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    entry.dpopJkt = jkt;
    const nowSec = Math.floor(this.#clock.now() / 1000);
    this.#checkClaims(payload, req, htu, nowSec);
    if (this.#nonce !== undefined && payload.nonce !== this.#nonce)
      throw new OAuthFailure(400, 'use_dpop_nonce', 'the proof must carry the current DPoP-Nonce', false, {
        'dpop-nonce': this.#nonce,
      });
    // Held through the second `nowSec + 2 * dpopProofWindowSec`: by then the proof's `iat` is out of the window.
    const untilMs = (nowSec + 2 * dpopProofWindowSec + 1) * 1000;
    if (!this.#replays.firstUse(payload.jti as string, untilMs, this.#clock.now()))
      throw invalidProof('the jti was used before');
    return jkt;
  }

  #checkClaims(payload: Record<string, unknown>, req: IncomingMessage, htu: string, nowSec: number): void {
    if (payload.htm !== req.method) throw invalidProof(`htm must be ${req.method ?? ''}`);
    if (!sameUrl(payload.htu, htu)) throw invalidProof(`htu must be ${htu}`);
    const { iat, jti } = payload;
    if (typeof iat !== 'number' || Math.abs(iat - nowSec) > dpopProofWindowSec)
      throw invalidProof(`iat must be within ${dpopProofWindowSec} s of the server's clock`);
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > maxJtiLength)
      throw invalidProof(`jti must be a string of 1 to ${maxJtiLength} characters`);
  }
}

function invalidProof(description: string): OAuthFailure {
  return new OAuthFailure(400, 'invalid_dpop_proof', description);
}

/** Whether `claimed` names `expected`, ignoring a query and fragment (RFC 9449 §4.3, check 9). */
function sameUrl(claimed: unknown, expected: string): boolean {
  if (typeof claimed !== 'string' || !URL.canParse(claimed)) return false;
  const url = new URL(claimed);
  return `${url.origin}${url.pathname}` === expected;
}
