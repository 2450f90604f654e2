import type { TlsClientCertificate, TlsClientPair } from '../credentials/tls-client-certificate.js';
import { proxyRoute, type ProxyOption, type ProxyRoute } from './proxy.js';

/**
 * How the requests of a client that authenticates with a TLS client certificate leave the process:
 * an undici dispatcher presenting the certificate, through the configured proxy if any. When the
 * certificate's files bring a new pair, a new dispatcher serves new requests (so new connections
 * present the new certificate) and the old one closes once its requests are done.
 *
 * @internal
 * @example
 * ```ts
 * const route = new MtlsRoute(certificate, undefined);
 * await fetch(url, { dispatcher: (await route.current()).dispatcher });
 * ```
 */
export class MtlsRoute {
  readonly #certificate: TlsClientCertificate;
  readonly #proxy: ProxyOption | undefined;
  /** The proxy variables as they were when the manager was made, as for requests without a certificate. */
  readonly #env: NodeJS.ProcessEnv;
  #pair: TlsClientPair | undefined;
  #route: ProxyRoute | undefined;

  constructor(certificate: TlsClientCertificate, proxy: ProxyOption | undefined, env: NodeJS.ProcessEnv = process.env) {
    this.#certificate = certificate;
    this.#proxy = proxy;
    this.#env = { ...env };
  }

  /** The route presenting the certificate's current pair. */
  async current(): Promise<ProxyRoute> {
    const pair = await this.#certificate.current();
    if (pair !== this.#pair || this.#route === undefined) {
      const previous = this.#route?.dispatcher;
      this.#route = proxyRoute(this.#proxy, this.#env, pair);
      this.#pair = pair;
      // Graceful: requests under way finish on their connections, which then close.
      previous?.close().catch(() => undefined);
    }
    return this.#route;
  }
}
