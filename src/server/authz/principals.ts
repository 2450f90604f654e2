// `source.principals` against the caller's connection, as gRFC A41 reads it: the verified client
// certificate's URI SANs, else its DNS SANs, else its subject; only the first source present is
// compared.
import type { AuthzPeer } from './authorization-policy.js';
import type { PatternSet } from './patterns.js';

/**
 * Whether the caller's principal matches one of `principals`.
 *
 * - Plaintext: no principal rule matches, not even `""` or `*` (A43, grpc-go, C-core agree).
 * - TLS without a verified client certificate: the principal is `""`, so only `""` matches (not `*`, which needs a non-empty value).
 * - A certificate: its URI SANs when it has any, else its DNS SANs when it has any, else its subject
 *   (RFC 4514, as `PeerIdentity.subject` gives it); a rule matches when any name of that one source
 *   does. A43's text and C-core fall through instead (a URI SAN that does not match lets the DNS
 *   SANs, then the subject, be tried), so that a certificate with URI `spiffe://x/other` and DNS
 *   `svc.legit` passes a `svc.legit` rule there; grpc-go calls that an authorization bypass and
 *   follows A41 from v1.82.0 on, as this does.
 */
export function principalMatches(principals: PatternSet, peer: AuthzPeer): boolean {
  if (!peer.tls) return false;
  const identity = peer.identity;
  if (identity === undefined) return principals.matches('');
  if (identity.uriSans.length > 0) return principals.matchesAny(identity.uriSans);
  if (identity.dnsSans.length > 0) return principals.matchesAny(identity.dnsSans);
  return principals.matches(identity.subject);
}
