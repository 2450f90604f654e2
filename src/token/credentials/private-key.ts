import { createPrivateKey, type webcrypto } from 'node:crypto';
import { importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { configError } from '../errors.js';

/** A private key as the options accept it: PEM (PKCS#8) text, a private JWK, or a `CryptoKey`. */
export type PrivateKeyInput = string | JWK | CryptoKey;

/**
 * A key file's text: PEM as is, or a JWK in JSON. `what` names the option in the message.
 */
export function parsePrivateKeyText(text: string, what: string): PrivateKeyInput {
  if (!text.startsWith('{')) return text;
  try {
    return JSON.parse(text) as PrivateKeyInput;
  } catch {
    throw configError(`${what} holds neither PEM nor JWK JSON`);
  }
}

/** A key ready for signing client assertions. */
export interface SigningKey {
  readonly key: CryptoKey;
  readonly alg: string;
  readonly kid?: string;
}

/**
 * Imports a private key with jose, choosing the JWS algorithm from the key itself unless `alg` is
 * given: RS256 for RSA, ES256/384/512 by curve, EdDSA for Ed25519. `what` names the option or file
 * field in error messages; the key material never appears in them.
 */
export async function importSigningKey(
  input: PrivateKeyInput,
  what: string,
  alg?: string,
  kid?: string,
): Promise<SigningKey> {
  try {
    if (typeof input === 'string') {
      const chosen = alg ?? algorithmOfPem(input, what);
      return { key: await importPKCS8(input, chosen), alg: chosen, kid };
    }
    if (isCryptoKey(input)) {
      if (input.type !== 'private') throw configError(`${what} must be a private key`);
      const chosen = alg ?? algorithmOfCryptoKey(input, what);
      return { key: input, alg: chosen, kid };
    }
    if (typeof input !== 'object' || input === null || typeof input.kty !== 'string') {
      throw configError(`${what} must be a PEM private key, a private JWK or a CryptoKey`);
    }
    if (input.d === undefined) throw configError(`${what} is a public JWK; a private key (with "d") is needed`);
    const chosen = alg ?? input.alg ?? algorithmOfJwk(input, what);
    const key = await importJWK(input, chosen);
    if (!isCryptoKey(key)) throw configError(`${what} must be an asymmetric private key`);
    const keyId = kid ?? input.kid;
    return { key, alg: chosen, kid: keyId };
  } catch (err) {
    if (err instanceof Error && err.name === 'TokenError') throw err;
    // jose's and node's messages may quote parts of the input: do not pass them on.
    throw configError(
      `${what} could not be imported as a private key (expected a PKCS#8 PEM private key, a private JWK or a CryptoKey)`,
    );
  }
}

// The global class: node:crypto's webcrypto.CryptoKey is not exposed on Node 20, nor typed globally.
const CryptoKeyClass = (globalThis as unknown as { CryptoKey: abstract new () => object }).CryptoKey;

function isCryptoKey(value: unknown): value is CryptoKey {
  return value instanceof CryptoKeyClass;
}

function algorithmOfPem(pem: string, what: string): string {
  const key = createPrivateKey(pem);
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return 'RS256';
    case 'ec':
      return ecAlgorithm(key.asymmetricKeyDetails?.namedCurve, what);
    case 'ed25519':
      return 'EdDSA';
    default:
      throw configError(`${what} has an unsupported key type ${String(key.asymmetricKeyType)}`);
  }
}

function algorithmOfJwk(jwk: JWK, what: string): string {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return ecAlgorithm(jwk.crv, what);
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw configError(`${what} has an unsupported key type ${jwk.kty ?? '(none)'}`);
}

function algorithmOfCryptoKey(key: CryptoKey, what: string): string {
  const { name } = key.algorithm;
  if (name === 'RSASSA-PKCS1-v1_5') return 'RS256';
  if (name === 'ECDSA') return ecAlgorithm((key.algorithm as webcrypto.EcKeyAlgorithm).namedCurve, what);
  if (name === 'Ed25519') return 'EdDSA';
  throw configError(`${what} has an unsupported algorithm ${name}`);
}

function ecAlgorithm(curve: string | undefined, what: string): string {
  switch (curve) {
    case 'P-256':
    case 'prime256v1':
      return 'ES256';
    case 'P-384':
    case 'secp384r1':
      return 'ES384';
    case 'P-521':
    case 'secp521r1':
      return 'ES512';
    default:
      throw configError(`${what} uses an unsupported curve ${curve ?? '(none)'}`);
  }
}
