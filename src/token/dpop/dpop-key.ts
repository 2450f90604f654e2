import { createHash, createPrivateKey, createPublicKey, KeyObject, randomBytes, type JsonWebKey } from 'node:crypto';
import { inspect } from 'node:util';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { systemClock, type Clock } from '../../common/clock.js';
import { AuthConfigError } from '../../common/config-error.js';
import { jwkThumbprintMembers } from '../../common/jws-algorithms.js';

/**
 * A DPoP private key as the `dpop.privateKey` option takes it: PKCS#8 PEM text, a private JWK, a
 * node `KeyObject`, or a WebCrypto `CryptoKey` (a non-extractable one too). P-256 (`ES256`) or
 * Ed25519 (`EdDSA`) only.
 */
export type DpopPrivateKeyInput = string | JWK | KeyObject | CryptoKey;

/** The JWS algorithms a DPoP key may sign with, by node's key type and curve. */
export type DpopAlgorithm = 'ES256' | 'EdDSA';

/** What {@link DpopKey.proof} signs a proof for (RFC 9449 §4.2). */
export interface DpopProofRequest {
  /** The HTTP method of the request, such as `'POST'`. */
  readonly htm: string;
  /** The request's URI without query and fragment. */
  readonly htu: string;
  /** The access token the request carries: the proof gets its hash as `ath`. Default none. */
  readonly accessToken?: string;
  /** The server's last `DPoP-Nonce`. Default none. */
  readonly nonce?: string;
}

/**
 * A DPoP key pair (RFC 9449): signs proofs with jose and names itself by its RFC 7638 thumbprint
 * (the `cnf.jkt` of the tokens bound to it). The private key never leaves the object: not in
 * `util.inspect`, `JSON.stringify` or any message.
 *
 * @example
 * ```ts
 * const key = await DpopKey.generate();
 * const proof = await key.proof({ htm: 'POST', htu: 'https://api.example.com/orders.v1.Orders/Get', accessToken });
 * ```
 */
export class DpopKey {
  /** The JWS algorithm of the proofs. */
  readonly alg: DpopAlgorithm;
  /** RFC 7638 JWK SHA-256 thumbprint of the public key, base64url: a bound token's `cnf.jkt`. */
  readonly thumbprint: string;
  /** The pair as openid-client's `getDPoPHandle` takes it; the private key is not extractable. */
  declare readonly keyPair: { readonly privateKey: CryptoKey; readonly publicKey: CryptoKey };
  readonly #publicJwk: JWK;
  readonly #clock: Clock;

  private constructor(
    alg: DpopAlgorithm,
    keyPair: DpopKey['keyPair'],
    publicJwk: JWK,
    thumbprint: string,
    clock: Clock,
  ) {
    this.alg = alg;
    this.thumbprint = thumbprint;
    Object.defineProperty(this, 'keyPair', { value: keyPair, enumerable: false });
    this.#publicJwk = publicJwk;
    this.#clock = clock;
  }

  /**
   * A new P-256 (`ES256`) key pair, held in memory; its private key is not extractable.
   * @param clock - dates the proofs' `iat`. Default: the system clock.
   */
  static async generate(clock: Clock = systemClock): Promise<DpopKey> {
    const pair = await generateKeyPair('ES256', { extractable: false });
    return DpopKey.#fromPair('ES256', pair, clock);
  }

  /**
   * The key pair of a given private key (see {@link DpopPrivateKeyInput}).
   * @param clock - dates the proofs' `iat`. Default: the system clock.
   * @throws AuthConfigError naming `what` (default `dpop.privateKey`) for a key that is not a P-256 or Ed25519 private key.
   */
  static async from(
    input: DpopPrivateKeyInput,
    clock: Clock = systemClock,
    what = 'dpop.privateKey',
  ): Promise<DpopKey> {
    const { keyObject, alg } = checkDpopPrivateKey(input, what);
    const publicJwk = createPublicKey(keyObject).export({ format: 'jwk' }) as JWK;
    const pem = keyObject.export({ format: 'pem', type: 'pkcs8' }) as string;
    const privateKey = await importPKCS8(pem, alg, { extractable: false });
    const publicKey = (await importJWK(publicJwk, alg, { extractable: true })) as CryptoKey;
    return DpopKey.#fromPair(alg, { privateKey, publicKey }, clock);
  }

  static async #fromPair(alg: DpopAlgorithm, pair: DpopKey['keyPair'], clock: Clock): Promise<DpopKey> {
    const exported = await exportJWK(pair.publicKey);
    // The proof's `jwk` header holds the thumbprint's members and nothing else.
    const members = jwkThumbprintMembers[exported.kty ?? ''] ?? [];
    const publicJwk = Object.fromEntries(
      members.map((name) => [name, (exported as Record<string, unknown>)[name]]),
    ) as JWK;
    return new DpopKey(alg, pair, publicJwk, await calculateJwkThumbprint(publicJwk), clock);
  }

  /** The public JWK of the proofs' `jwk` header (a copy). */
  get publicJwk(): JWK {
    return { ...this.#publicJwk };
  }

  /**
   * A DPoP proof JWT (RFC 9449 §4.2): header `typ: dpop+jwt`, `alg`, the public `jwk`; claims `jti`
   * (128 random bits, base64url), `htm`, `htu`, `iat` (whole seconds of the clock), `ath` (base64url
   * SHA-256 of `accessToken`) when given, `nonce` when given.
   */
  async proof(request: DpopProofRequest): Promise<string> {
    const { htm, htu, accessToken, nonce } = request;
    const claims: Record<string, string> = { jti: randomBytes(16).toString('base64url'), htm, htu };
    if (accessToken !== undefined) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
    if (nonce !== undefined) claims.nonce = nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.alg, typ: 'dpop+jwt', jwk: this.publicJwk })
      .setIssuedAt(Math.floor(this.#clock.now() / 1000))
      .sign(this.keyPair.privateKey);
  }

  /** Log-safe: the algorithm and thumbprint, never the key. */
  toJSON(): { alg: DpopAlgorithm; thumbprint: string } {
    return { alg: this.alg, thumbprint: this.thumbprint };
  }

  toString(): string {
    return `DpopKey(${this.alg}, jkt ${this.thumbprint})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Checks a DPoP private key at once (at construction) and gives it as a node KeyObject with its
 * algorithm. The key's text never appears in the message.
 */
export function checkDpopPrivateKey(input: unknown, what: string): { keyObject: KeyObject; alg: DpopAlgorithm } {
  const keyObject = toKeyObject(input, what);
  if (keyObject.type !== 'private')
    throw new AuthConfigError(`${what} must be a private key, not a ${keyObject.type} one`);
  const type = keyObject.asymmetricKeyType;
  if (type === 'ed25519') return { keyObject, alg: 'EdDSA' };
  if (type === 'ec' && keyObject.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { keyObject, alg: 'ES256' };
  throw new AuthConfigError(
    `${what} must be a P-256 (ES256) or Ed25519 (EdDSA) private key, not ${type ?? 'this kind'}`,
  );
}

function toKeyObject(input: unknown, what: string): KeyObject {
  if (input instanceof KeyObject) return input;
  const CryptoKeyClass = (globalThis as unknown as { CryptoKey: abstract new () => object }).CryptoKey;
  try {
    if (input instanceof CryptoKeyClass) return KeyObject.from(input as Parameters<typeof KeyObject.from>[0]);
    if (typeof input === 'string') {
      if (/-----BEGIN [A-Z ]*PUBLIC KEY-----/.test(input))
        throw new AuthConfigError(`${what} must be a private key, not a public one`);
      return createPrivateKey(input);
    }
    if (typeof input === 'object' && input !== null && typeof (input as JWK).kty === 'string') {
      const jwk = input as JWK;
      if (jwk.kty === 'oct')
        throw new AuthConfigError(`${what} must be an asymmetric private key, not a symmetric one`);
      if (jwk.d === undefined) throw new AuthConfigError(`${what} must be a private key, not a public JWK`);
      return createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    }
  } catch (err) {
    if (err instanceof AuthConfigError) throw err;
    // node's message may quote the input: not passed on.
  }
  throw new AuthConfigError(`${what} must be a PKCS#8 PEM private key, a private JWK, a KeyObject or a CryptoKey`);
}
