// The sockets of the mock token server: its main listener on 127.0.0.1 (HTTP, or HTTPS with the `tls`
// option), and in HTTPS mode a second one for RFC 8705's mtls_endpoint_aliases, which asks each client
// for a certificate. Both hand their requests to one handler, and close together.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server, Socket } from 'node:net';
import { introspectionPath, revocationPath, sendJson, tokenPath, type Clock } from './http.js';
import type { MockMtlsEndpointAliases, MockTlsCertificates } from './mtls-types.js';

/** Which listener a request came to: the main endpoints, or the mutual TLS aliases. */
export type ListenerKind = 'main' | 'mtls';

/** Handles one request that came to `listener`. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, listener: ListenerKind) => Promise<void>;

/** The listeners of one mock server, and their open connections. */
export class Listeners {
  readonly #main: Server;
  readonly #mtls: Server | undefined;
  readonly #scheme: 'http' | 'https';
  /** Open connections of both listeners, so that `close()` can destroy hanging ones. */
  readonly #sockets = new Set<Socket>();

  private constructor(main: Server, mtls: Server | undefined, scheme: 'http' | 'https') {
    this.#main = main;
    this.#mtls = mtls;
    this.#scheme = scheme;
  }

  /**
   * Listens on 127.0.0.1, on `port` (default 0: a free one): plain HTTP, or with `tls` HTTPS plus the
   * mutual TLS listener on a free port. The main listener asks for no client certificate; the mutual
   * TLS one asks for one without requiring it, and lets a certificate its CA does not verify through
   * to the handler (which refuses with an OAuth error, not a failed handshake).
   */
  static async open(port: number | undefined, tls: MockTlsCertificates | undefined): Promise<Listeners> {
    if (tls === undefined) return new Listeners(await listen(createHttpServer(), port), undefined, 'http');
    const base = { cert: tls.serverCert, key: tls.serverKey, ca: tls.caCert };
    const main = await listen(createHttpsServer(base), port);
    try {
      const mtls = await listen(createHttpsServer({ ...base, requestCert: true, rejectUnauthorized: false }), 0);
      return new Listeners(main, mtls, 'https');
    } catch (err) {
      main.close();
      throw err;
    }
  }

  /** `http(s)://127.0.0.1:<port>` of the main listener. */
  get origin(): string {
    return originOf(this.#main, this.#scheme);
  }

  /** The endpoints of the mutual TLS listener, as RFC 8705 §5 names them; `undefined` over plain HTTP. */
  get mtlsEndpointAliases(): MockMtlsEndpointAliases | undefined {
    if (this.#mtls === undefined) return undefined;
    const origin = originOf(this.#mtls, this.#scheme);
    return Object.freeze({
      token_endpoint: `${origin}${tokenPath}`,
      introspection_endpoint: `${origin}${introspectionPath}`,
      revocation_endpoint: `${origin}${revocationPath}`,
    });
  }

  /**
   * Hands each request to `handle`, keeps the open connections, and swallows socket, TLS and parser
   * errors. A request `handle` rejects gets 500 rather than crashing the test run: a bug here, or a
   * fault with unusable headers.
   */
  serve(clock: Clock, handle: RequestHandler): void {
    const each: [Server, ListenerKind][] = [[this.#main, 'main']];
    if (this.#mtls !== undefined) each.push([this.#mtls, 'mtls']);
    for (const [server, kind] of each) {
      server.on('connection', (socket: Socket) => {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.#sockets.delete(socket));
      });
      server.on('error', () => undefined);
      server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
      server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        req.on('error', () => undefined);
        res.on('error', () => undefined);
        handle(req, res, kind).catch(() => {
          try {
            sendJson(res, clock, 500, { error: 'server_error', error_description: 'mock server failure' });
          } catch {
            res.destroy();
          }
        });
      });
    }
  }

  /** Stops both listeners and destroys every open connection; resolves once both are closed. */
  close(): Promise<void> {
    const closing = [this.#main, this.#mtls].map(
      (server) => new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve()))),
    );
    for (const socket of this.#sockets) socket.destroy();
    return Promise.all(closing).then(() => undefined);
  }
}

async function listen(server: Server, port = 0): Promise<Server> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function originOf(server: Server, scheme: string): string {
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
