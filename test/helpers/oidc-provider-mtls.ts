// The mutual-TLS mode of test/helpers/oidc-provider.ts (RFC 8705): oidc-provider's features.mTLS on
// an https listener that asks every client for a certificate, and the two clients that authenticate
// with one.
//
// - The listener requests a client certificate and does not refuse a connection without one
//   (`rejectUnauthorized: false`): oidc-provider decides per request. getCertificate reads the peer
//   certificate of the request's TLS socket; certificateAuthorized is the socket's own verdict against
//   `clientCa`; certificateSubjectMatches compares the registered tls_client_auth_san_uri with the
//   certificate's URI SANs (the only subject property registered here).
// - certificateBoundAccessTokens: both clients register tls_client_certificate_bound_access_tokens,
//   so their tokens carry cnf.x5t#S256 of the certificate the token request came with.
// - With `alias`, a second https listener serves the same provider and the discovery document names
//   it as mtls_endpoint_aliases.token_endpoint (oidc-provider has no setting of its own for aliases;
//   its `discovery` option adds the member).
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { exportJWK, importX509, type JWK } from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';

/** What the mutual-TLS mode needs: the listener's certificate, the client CA, the clients' certificates. */
export interface OidcMtlsOptions {
  /** The https listener's certificate and key (PEM), for 127.0.0.1. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** The CA that issued the server certificate and the tls_client_auth client's certificates (PEM). */
  readonly ca: string;
  /** The URI SAN (a SPIFFE ID) the tls_client_auth client is registered with. */
  readonly spiffeId: string;
  /** The certificate (PEM) registered with the self_signed_tls_client_auth client, in its jwks. */
  readonly selfSignedCertificate: string;
  /** Serve the token endpoint on a second listener named in mtls_endpoint_aliases. Default false. */
  readonly alias?: boolean;
}

/** A client that authenticates with a TLS client certificate, spreadable into `TokenManagerOptions` (with `tlsClientCertificate`). */
export interface MtlsClient {
  readonly clientId: string;
  readonly clientAuthMethod: 'tls_client_auth' | 'self_signed_tls_client_auth';
}

/** The two mutual-TLS clients. */
export const mtlsClients = {
  pki: { clientId: 'orders-mtls-pki', clientAuthMethod: 'tls_client_auth' },
  selfSigned: { clientId: 'orders-mtls-self-signed', clientAuthMethod: 'self_signed_tls_client_auth' },
} as const satisfies Record<string, MtlsClient>;

/** The registrations of the two clients, allowed the client-credentials grant and bound tokens. */
export async function mtlsClientMetadata(options: OidcMtlsOptions): Promise<ClientMetadata[]> {
  const grant = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
  const bound = { tls_client_certificate_bound_access_tokens: true };
  return [
    {
      ...grant,
      ...bound,
      client_id: mtlsClients.pki.clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_san_uri: options.spiffeId,
    },
    {
      ...grant,
      ...bound,
      client_id: mtlsClients.selfSigned.clientId,
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [await certificateJwk(options.selfSignedCertificate)] },
    },
  ];
}

/** features.mTLS and the discovery member for the alias (when `aliasTokenEndpoint` is given). */
export function mtlsConfiguration(aliasTokenEndpoint: string | undefined): Partial<Configuration> {
  const peer = (ctx: KoaContextWithOIDC): X509Certificate | undefined =>
    (ctx.socket as TLSSocket).getPeerX509Certificate?.();
  return {
    ...(aliasTokenEndpoint === undefined
      ? {}
      : { discovery: { mtls_endpoint_aliases: { token_endpoint: aliasTokenEndpoint } } }),
    // oidc-provider's default list, and the two RFC 8705 methods (not on by the feature alone).
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_jwt',
      'client_secret_post',
      'private_key_jwt',
      'none',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ],
    features: {
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: peer,
        certificateAuthorized: (ctx) => (ctx.socket as TLSSocket).authorized,
        certificateSubjectMatches: (ctx, property, expected) =>
          property === 'tls_client_auth_san_uri' &&
          (peer(ctx)?.subjectAltName ?? '').split(', ').includes(`URI:${expected}`),
      },
    },
  };
}

/** The certificate's public key as a JWK with the certificate in `x5c` (what self-signed registration takes). */
async function certificateJwk(pem: string): Promise<JWK> {
  const key = await importX509(pem, 'ES256', { extractable: true });
  const der = pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
  return { ...(await exportJWK(key)), alg: 'ES256', use: 'sig', x5c: [der] };
}
