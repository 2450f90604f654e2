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

/**
 * The JWK members of private or symmetric keys (RFC 7518 §6.2.2, §6.3.2, §6.4.1): a DPoP proof's
 * `jwk` (RFC 9449 §4.2) must carry none of them, at the server and at the testing kit's token server.
 */
export const privateJwkMembers: readonly string[] = Object.freeze(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/**
 * The members of a public JWK that its RFC 7638 thumbprint covers (§3.2), by key type: all a DPoP
 * proof's `jwk` needs, and the only key types DPoP keys are accepted in. Without a prototype, so a
 * `kty` from a request (`toString`, `__proto__`) looks up nothing.
 */
export const jwkThumbprintMembers: Readonly<Partial<Record<string, readonly string[]>>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, readonly string[]>, {
    EC: Object.freeze(['crv', 'kty', 'x', 'y']),
    RSA: Object.freeze(['e', 'kty', 'n']),
    OKP: Object.freeze(['crv', 'kty', 'x']),
  }),
);
