import { experimental, type ChannelCredentials } from '@grpc/grpc-js';
import { watchCertificateFiles, type CertificateRefreshOptions } from './certificate-file-options.js';

/**
 * Options of {@link createMtlsChannelCredentials}.
 *
 * @example
 * ```ts
 * const options: MtlsChannelCredentialsOptions = { certFile: '/etc/tls/tls.crt', keyFile: '/etc/tls/tls.key', caFile: '/etc/tls/ca.crt' };
 * ```
 */
export interface MtlsChannelCredentialsOptions extends CertificateRefreshOptions {
  /** Path of the client certificate (chain), PEM. Required. */
  certFile: string;
  /** Path of its private key, PEM. Required. Never printed. */
  keyFile: string;
  /** Path of the CA certificate(s) that verify the server, PEM. Required. */
  caFile: string;
}

/**
 * grpc-js channel credentials for mutual TLS whose certificate renews itself: the client certificate,
 * its key and the CA are read from files (such as a cert-manager Secret volume, whose `..data` symlink
 * swap is followed) and re-read every `refreshIntervalMs`. When they changed, and the new certificate
 * and key are complete, match and have not expired, new connections present the new certificate;
 * otherwise the last good set stays and the problem is reported once as a process warning
 * (`GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED`, also under `NODE_DEBUG=grpc-oauth2`). Compose with tokens
 * through {@link createChannelCredentials}.
 *
 * Built on grpc-js's experimental `createCertificateProviderChannelCredentials` (grpc-js 1.12+).
 *
 * @throws AuthConfigError for an unknown or mistyped option, and when a file is missing, unreadable
 *   or empty, the CA file holds no certificate, the key does not match the certificate, or the
 *   certificate has expired: the message names the file, never its contents.
 *
 * @example
 * ```ts
 * import { createMtlsChannelCredentials, createChannelCredentials } from 'grpc-oauth2-credentials';
 *
 * const mtls = createMtlsChannelCredentials({ certFile: '/etc/tls/tls.crt', keyFile: '/etc/tls/tls.key', caFile: '/etc/tls/ca.crt' });
 * const client = new OrdersClient('orders.example.com:443', createChannelCredentials(mtls, tokens));
 * ```
 */
export function createMtlsChannelCredentials(options: MtlsChannelCredentialsOptions): ChannelCredentials {
  const provider = watchCertificateFiles(options, 'createMtlsChannelCredentials');
  return experimental.createCertificateProviderChannelCredentials(provider, provider);
}
