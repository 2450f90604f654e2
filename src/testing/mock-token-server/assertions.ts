// The signed JWT assertions with which clients (private_key_jwt) and service accounts (JWT bearer)
// prove who they are (RFC 7523): the keys that verify them and the checks both share.
import { KeyObject, createPublicKey, type JsonWebKey, type webcrypto } from 'node:crypto';
import { decodeJwt, jwtVerify, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { AuthConfigError } from '../../common/config-error.js';
import { asymmetricAlgorithms } from '../../common/jws-algorithms.js';
import type { Clock } from './http.js';

/** Algorithms accepted for client and service-account assertions, in the order discovery lists them. */
export const assertionAlgorithms = asymmetricAlgorithms;

/** Checks an assertion's signature, audience and time on the server's clock; each grant adds its own claims. */
export class AssertionVerifier {
  /** The `aud` values an assertion may carry: the issuer and the token endpoint. */
  readonly #audiences: string[];
  readonly #clock: Clock;

  constructor(audiences: string[], clock: Clock) {
    this.#audiences = audiences;
    this.#clock = clock;
  }

  /**
   * The verified claims of `jwt`; rejects with a jose error.
   * @param algorithms - those allowed, when the registered JWK named one; default {@link assertionAlgorithms}.
   */
  async verify(
    jwt: string,
    key: KeyObject,
    algorithms: string[] | undefined,
    checks: Pick<JWTVerifyOptions, 'issuer' | 'subject' | 'requiredClaims' | 'maxTokenAge'> & {
      readonly audience?: string;
    },
  ): Promise<JWTPayload> {
    const { payload } = await jwtVerify(jwt, key, {
      ...checks,
      audience: checks.audience ?? this.#audiences,
      algorithms: algorithms ?? [...assertionAlgorithms],
      currentDate: new Date(this.#clock.now()),
    });
    return payload;
  }
}

/** A JWT's claims before verification, only to pick the key that verifies it. */
export function unverifiedClaims(jwt: string): JWTPayload | undefined {
  try {
    return decodeJwt(jwt);
  } catch {
    return undefined;
  }
}

/**
 * The public key that verifies a client's or account's assertions, read synchronously so a bad key
 * fails at `addClient` rather than at the first request. A JWK's `alg` pins the algorithm.
 */
export function verifierOf(key: JWK | CryptoKey | string): { verifyKey: KeyObject; verifyAlgorithms?: string[] } {
  let keyObject: KeyObject;
  try {
    if (typeof key === 'string') keyObject = createPublicKey(key);
    else if ('kty' in key) keyObject = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    else keyObject = KeyObject.from(key as webcrypto.CryptoKey);
  } catch (err) {
    throw new AuthConfigError('MockTokenServer: publicKey is not a readable JWK, PEM or CryptoKey', { cause: err });
  }
  if (keyObject.type === 'secret')
    throw new AuthConfigError('MockTokenServer: publicKey must be an asymmetric key, not a secret');
  const verifyKey = keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject;
  const alg = typeof key === 'object' && 'kty' in key ? key.alg : undefined;
  return { verifyKey, verifyAlgorithms: alg ? [alg] : undefined };
}
