// Calls and peers for the A43 engine's unit tests: the engine is pure, so a request is a plain object
// and a peer identity is built as getPeerIdentity would give it.
import type { AuthzRequest } from '../../src/server/authz/authorization-policy.js';
import type { PeerIdentity } from '../../src/server/peer-identity.js';

/** A certificate's names; `spiffeId` follows the X.509-SVID rule as `getPeerIdentity` does. */
export function certificate(names: { uri?: string[]; dns?: string[]; subject?: string }): PeerIdentity {
  const uriSans = Object.freeze([...(names.uri ?? [])]);
  const [onlyUri] = uriSans;
  return Object.freeze({
    spiffeId: uriSans.length === 1 && onlyUri!.startsWith('spiffe://') ? onlyUri : undefined,
    uriSans,
    dnsSans: Object.freeze([...(names.dns ?? [])]),
    subject: names.subject ?? '',
    certificateSha256: 'test-thumbprint',
  });
}

/** How the caller is connected: plaintext, TLS without a client certificate, or mutual TLS. */
export type Connection = 'plaintext' | 'tls' | PeerIdentity;

/** A call of `method` with `headers` (values as grpc-js joins them) over `connection` (default plaintext). */
export function call(
  method: string,
  headers: Readonly<Record<string, string>> = {},
  connection: Connection = 'plaintext',
): AuthzRequest {
  return {
    method,
    header: (key) => (Object.hasOwn(headers, key) ? headers[key] : undefined),
    peer: {
      tls: connection !== 'plaintext',
      identity: typeof connection === 'object' ? connection : undefined,
    },
  };
}
