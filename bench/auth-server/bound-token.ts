// A certificate-bound access token (RFC 8705 §3) for the server benchmark, issued by the bench's own
// issuer. Of the ways to get one that the SDK verifies against that issuer's keys, the issuer's mTLS
// feature is used (issuer.ts): the token is then what an RFC 8705 authorization server really issues
// (oidc-provider writes `cnf: { 'x5t#S256' }` into its JWT access tokens), with nothing made up by
// the bench, at the price of an https port on the issuer and a second client registration. Signing
// a token in the bench with the issuer's key would have taken the private key out of the issuer and
// rebuilt its claims by hand, free to drift from what oidc-provider issues.
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';

export interface BoundTokenRequest {
  /** The issuer's token endpoint on its https port, which asks for a client certificate. */
  readonly tokenEndpoint: string;
  /** PEM of the CA that signed the issuer's https certificate. */
  readonly caCert: string;
  /** The TLS client certificate the token is bound to, its key (PEM) and its `x5t#S256` thumbprint. */
  readonly certificate: { readonly cert: string; readonly key: string; readonly sha256: string };
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  /** The resource (RFC 8707) the token is for: its `aud`. */
  readonly resource: string;
}

/**
 * A client-credentials access token from `tokenEndpoint`, asked for over TLS with `certificate`
 * (client_secret_basic); throws unless it is a JWT bound to that certificate. Hand-written: the SDK's
 * TokenManager presents a TLS client certificate only to authenticate with it (`tls_client_auth`),
 * while this client authenticates with its secret over a mutual-TLS connection.
 */
export async function boundAccessToken(options: BoundTokenRequest): Promise<string> {
  const { tokenEndpoint, caCert, certificate, clientId, clientSecret, scope, resource } = options;
  const dispatcher = new Agent({ connect: { ca: caCert, cert: certificate.cert, key: certificate.key } });
  try {
    // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const response = await request(tokenEndpoint, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }).toString(),
    });
    const body = (await response.body.json()) as { access_token?: unknown; error?: unknown };
    if (response.statusCode !== 200 || typeof body.access_token !== 'string')
      throw new Error(`bench issuer: no bound token (HTTP ${response.statusCode}, error ${String(body.error)})`);
    // An unbound token would leave the bound variant measuring no check at all.
    const { cnf } = decodeJwt(body.access_token) as { cnf?: Record<string, unknown> };
    if (cnf?.['x5t#S256'] !== certificate.sha256)
      throw new Error("bench issuer: the token's cnf x5t#S256 is not the bench client certificate's thumbprint");
    return body.access_token;
  } finally {
    await dispatcher.close();
  }
}
