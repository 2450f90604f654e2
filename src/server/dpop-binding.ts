// DPoP-bound access tokens (RFC 9449 §7): a token whose `cnf` names a key thumbprint (`jkt`) is
// accepted only under the `DPoP` scheme with a valid proof of that key for the call; the `DPoP`
// scheme takes bound tokens only; with `dpop: 'required'` every token must be bound.
import type { JWTPayload } from 'jose';
import { AuthConfigError } from '../common/config-error.js';
import { checkNumber } from '../common/option-checks.js';
import { Denial } from './denial.js';
import { DpopKeys } from './dpop-keys.js';
import { checkProof, expectedHtu } from './dpop-proof.js';
import { DpopReplayCache, defaultDpopReplayCacheSize } from './dpop-replay-cache.js';

/** What the transport knows of a call, for its proof. */
export interface DpopCall {
  readonly method: string;
  /** Every `dpop` value the call carries. */
  dpopProofs(): readonly unknown[];
  /** The call's `:authority` as the server's HTTP/2 layer received it (no client-set header). */
  authority(): string | undefined;
}

const notBound = new Denial('token_not_bound', 'this server takes only DPoP-bound tokens (RFC 9449) with a dpop proof');
const dpopUnbound = new Denial('token_not_bound', 'token sent with the DPoP scheme is not bound to a key (no cnf.jkt)');
const bearerBound = new Denial(
  'dpop_missing',
  'DPoP-bound token sent with the Bearer scheme; send authorization: DPoP',
);
const badConfirmation = new Denial('invalid_claims', 'bearer token has a malformed cnf claim');

/** A SHA-256 JWK thumbprint in base64url (RFC 7638): 43 characters. */
const thumbprint = /^[A-Za-z0-9_-]{43}$/;

/** The `dpop*` options, checked, and the check of each token's key binding. */
export class DpopBinding {
  /** `true` for `dpop: 'required'`: a token without `cnf.jkt` is refused. */
  readonly required: boolean;
  readonly maxAgeSec: number;
  readonly replays: DpopReplayCache;
  readonly keys = new DpopKeys();

  /**
   * @param given - the options (`dpop`, `dpopMaxAgeSec`, `dpopReplayCacheSize`).
   * @param where - the factory whose options these are, for messages.
   */
  constructor(
    given: Record<string, unknown>,
    where: string,
    readonly toleranceSec: number,
  ) {
    const mode = given.dpop;
    if (mode !== undefined && mode !== 'required' && mode !== 'allowed')
      throw new AuthConfigError(`${where}: dpop must be 'required' or 'allowed'`);
    this.required = mode === 'required';
    this.maxAgeSec = checkNumber(given.dpopMaxAgeSec, `${where}: dpopMaxAgeSec`, 60, { min: 1, max: 3600 });
    this.replays = new DpopReplayCache(
      checkNumber(given.dpopReplayCacheSize, `${where}: dpopReplayCacheSize`, defaultDpopReplayCacheSize, {
        min: 1,
        max: 10_000_000,
        integer: true,
      }),
    );
  }

  /**
   * The denial for verified `claims` presented as `token` under the `DPoP` scheme (`isDpop`) or
   * `Bearer`, on `call`, or `undefined` when the binding holds. A proof is looked at only for a
   * bound token under the `DPoP` scheme; then the answer is a promise (the signature check is async).
   */
  check(
    claims: Readonly<JWTPayload>,
    token: string,
    isDpop: boolean,
    call: DpopCall,
    nowMs: number,
  ): Denial | undefined | Promise<Denial | undefined> {
    const confirmation: unknown = claims.cnf;
    const jkt: unknown =
      typeof confirmation === 'object' && confirmation !== null
        ? (confirmation as Record<string, unknown>).jkt
        : undefined;
    if (jkt === undefined) {
      if (isDpop) return dpopUnbound;
      return this.required ? notBound : undefined;
    }
    if (typeof jkt !== 'string' || !thumbprint.test(jkt)) return badConfirmation;
    if (!isDpop) return bearerBound;
    return checkProof({
      proofs: call.dpopProofs(),
      token,
      htu: expectedHtu(call.authority(), call.method),
      jkt,
      nowMs,
      maxAgeSec: this.maxAgeSec,
      toleranceSec: this.toleranceSec,
      replays: this.replays,
      keys: this.keys,
    });
  }
}
