import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { checkBoolean } from '../common/option-checks.js';
import { watchCertificateFiles, type CertificateRefreshOptions } from '../grpc/certificate-file-options.js';
import { withConnectionPeers } from './connection-peers.js';

/**
 * Options of {@link createMtlsServerCredentials}.
 *
 * @example
 * ```ts
 * const options: MtlsServerCredentialsOptions = { certFile: '/etc/tls/tls.crt', keyFile: '/etc/tls/tls.key', caFile: '/etc/tls/ca.crt' };
 * ```
 */
export interface MtlsServerCredentialsOptions extends CertificateRefreshOptions {
  /** Path of the server certificate (chain) served to clients, PEM. Required. */
  certFile: string;
  /** Path of its private key, PEM. Required. Never printed. */
  keyFile: string;
  /**
   * Path of the CA certificate(s) that verify client certificates, PEM. Required. A renewed CA file
   * decides which client certificates new connections accept.
   */
  caFile: string;
  /**
   * `true`: a client must present a certificate that `caFile` verifies, or its handshake fails.
   * `false`: the server still asks every client for a certificate and verifies what it gets, but also
   * serves a client without one; such a call has no client certificate (`getPeerIdentity(call)` is
   * `undefined`; `call.getAuthContext()` is `{ transportSecurityType: 'ssl' }`, where grpc-js's own
   * credentials say `{}` as on plaintext). A certificate that `caFile` does not verify is then treated as no certificate: the
   * connection is served without a client identity (grpc-js sets Node's `rejectUnauthorized: false`).
   * Default `true`.
   */
  requireClientCertificate?: boolean;
}

/**
 * grpc-js server credentials for mutual TLS whose certificates renew themselves: the server
 * certificate, its key and the CA that verifies clients are read from files (such as a cert-manager
 * Secret volume, whose `..data` symlink swap is followed) and re-read every `refreshIntervalMs`
 * (default 60_000 ms). When they changed, and the new certificate and key are complete, match and have
 * not expired, new connections are served the new certificate and verified against the new CA;
 * connections already open go on as they are. Otherwise the last good set stays and the problem is
 * reported once as a process warning (`GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED`, also under
 * `NODE_DEBUG=grpc-oauth2`). The re-read timer never keeps the process alive.
 *
 * Every call of a connection gets that connection's one auth context: `getPeerIdentity(call)` reads
 * its certificate once per connection, so that certificate-bound tokens cost no certificate parsing
 * per call.
 *
 * Built on grpc-js's experimental `createCertificateProviderServerCredentials` (grpc-js 1.12+), with
 * this package's own certificate provider, and `createServerCredentialsWithInterceptors` for the
 * per-connection auth context (docs/grpc-js-facts.md, "mutual TLS").
 *
 * @throws AuthConfigError for an unknown or mistyped option (`requireClientCertificate` must be a
 *   boolean), and when a file is missing, unreadable or empty, the CA file holds no certificate, the
 *   key does not match the certificate, or the certificate has expired: the message names the file,
 *   never its contents.
 *
 * @example
 * ```ts
 * import { createMtlsServerCredentials } from 'grpc-oauth2-credentials/server';
 *
 * const credentials = createMtlsServerCredentials({
 *   certFile: '/etc/tls/tls.crt',
 *   keyFile: '/etc/tls/tls.key',
 *   caFile: '/etc/tls/ca.crt',
 *   requireClientCertificate: true,
 *   refreshIntervalMs: 60_000,
 * });
 * server.bindAsync('0.0.0.0:8443', credentials, (err, port) => { ... });
 * ```
 */
export function createMtlsServerCredentials(options: MtlsServerCredentialsOptions): ServerCredentials {
  const caller = 'createMtlsServerCredentials';
  // Checked before the files are read and watched: a bad option leaves no timer behind.
  const requireCertificate =
    checkBoolean(
      (options as Partial<MtlsServerCredentialsOptions> | undefined)?.requireClientCertificate,
      `${caller}: requireClientCertificate`,
    ) ?? true;
  const provider = watchCertificateFiles(options, caller, ['requireClientCertificate']);
  // The identity provider first, then the CA provider: grpc-js's parameter names say the opposite of
  // what it does (docs/grpc-js-facts.md). With a CA provider grpc-js always asks for a client
  // certificate (Node's requestCert), and `requireCertificate` becomes Node's rejectUnauthorized.
  const credentials = experimental.createCertificateProviderServerCredentials(provider, provider, requireCertificate);
  // Every call of a connection gets that connection's one auth context (its certificate read once),
  // and a TLS connection without a client certificate says it is TLS: getPeerIdentity, bound tokens.
  return withConnectionPeers(credentials);
}
