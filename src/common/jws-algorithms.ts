/**
 * The asymmetric JWS algorithms (RFC 7518, RFC 8037, RFC 9864): the server's default and allowed set
 * for access tokens, and what the testing kit's token server accepts for client assertions. `none`
 * and HMAC (`HS*`) are never in it: a public key must not be usable as an HMAC secret.
 *
 * @example
 * ```ts
 * createServerAuthInterceptor({ ...options, algorithms: asymmetricAlgorithms.filter((alg) => alg.startsWith('ES')) });
 * ```
 */
export const asymmetricAlgorithms: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
