// The public shapes of the mock token server's mutual TLS (RFC 8705): its certificates, and what a
// client registers to authenticate with its certificate and get tokens bound to it.

/**
 * The `tls` option of `MockTokenServer.start`: PEM text or Buffers. `createTestCertificates()`'s
 * result has these fields and may be passed as is (its other fields are ignored).
 *
 * With it, the server speaks HTTPS: `issuer` is `https://127.0.0.1:<port>` (so `serverCert` must name
 * 127.0.0.1 as an IP SAN, which the test certificates do), and clients trust it through `caCert`.
 * The main endpoints ask for no client certificate, as an IdP's usual host does; a second listener,
 * on another free port, serves the token, introspection and revocation endpoints as RFC 8705 §5's
 * `mtls_endpoint_aliases` (in discovery, and as `server.mtlsEndpointAliases`): it asks every client for
 * a certificate without requiring one, and trusts those `caCert` signed. A client that ignores the
 * aliases thus presents no certificate and is refused. Discovery also advertises
 * `tls_client_certificate_bound_access_tokens: true` and both mutual TLS methods.
 */
export interface MockTlsCertificates {
  /** The CA that signed `serverCert`, which also verifies clients' certificates for `tls_client_auth`. */
  readonly caCert: string | Buffer;
  /** The server certificate; it must name 127.0.0.1. */
  readonly serverCert: string | Buffer;
  /** Its private key. Never printed. */
  readonly serverKey: string | Buffer;
}

/**
 * What a client of a server started with `tls` registers for mutual TLS (RFC 8705). A request
 * authenticates this way when it carries only `client_id` (no secret, no assertion) to an
 * `mtls_endpoint_aliases` endpoint. The presented certificate must also be valid on the server's
 * `clock` (from its notBefore to its notAfter), besides TLS's own check against the real time.
 */
export interface MockClientCertificateAuth {
  /**
   * `tls_client_auth` (§2.1) by subject DN: a certificate `caCert` signed whose subject, as RFC 4514
   * text (most specific first, comma-separated, e.g. `'CN=orders,O=Example'`), equals this. Give one
   * of `tlsClientAuthSubjectDn`, `tlsClientAuthSanUri`, `tlsClientAuthSanDns` (§2.1.2); any enables
   * `tls_client_auth`.
   */
  readonly tlsClientAuthSubjectDn?: string;
  /** `tls_client_auth` by a URI SAN equal to this, such as a SPIFFE ID `'spiffe://example.org/ns/shop/sa/orders'`. */
  readonly tlsClientAuthSanUri?: string;
  /** `tls_client_auth` by a DNS SAN equal to this, e.g. `'orders.shop.internal'`. */
  readonly tlsClientAuthSanDns?: string;
  /**
   * `self_signed_tls_client_auth` (§2.2): the client's certificates, PEM (one, or several during a
   * renewal). A request presenting one of them (the same DER, compared by SHA-256) authenticates,
   * whoever signed it: no CA check. Enables `self_signed_tls_client_auth`.
   */
  readonly selfSignedCertificates?: string | readonly string[];
  /**
   * Bind this client's tokens to its certificate (§3): a token issued on a connection that presented a
   * certificate `caCert` verified, or one of `selfSignedCertificates`, carries
   * `cnf: { 'x5t#S256': <base64url SHA-256 of its DER> }` (in the JWT, or in the introspection answer
   * of an opaque token). Default `true`. Clients that authenticate otherwise (a secret on the
   * aliases with a certificate) are bound likewise.
   */
  readonly tlsClientCertificateBoundAccessTokens?: boolean;
}

/** The RFC 8705 §5 endpoint aliases of a server started with `tls`; see {@link MockTlsCertificates}. */
export interface MockMtlsEndpointAliases {
  readonly token_endpoint: string;
  readonly introspection_endpoint: string;
  readonly revocation_endpoint: string;
}
