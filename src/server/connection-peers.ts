// What the server credentials of this package add to grpc-js's: every call of a TLS connection gets
// that connection's one auth context (read once, not once per call), and a TLS connection without a
// client certificate says it is TLS, which grpc-js's `{}` does not.
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import {
  ServerInterceptingCall,
  experimental,
  type ServerCredentials,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { AuthContext } from './peer-identity.js';

type ConnectionInfo = ReturnType<ServerInterceptingCallInterface['getConnectionInfo']>;

/**
 * The auth context of a TLS connection whose client sent no certificate, or one the server did not
 * verify (with `requireClientCertificate: false`). grpc-js answers `{}` there, as on plaintext.
 */
const tlsWithoutCertificate: AuthContext = Object.freeze({ transportSecurityType: 'ssl' });

/** An open accepted socket, with the addresses it was accepted on and its auth context once read. */
interface Tracked {
  readonly remoteAddress: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  context: AuthContext | undefined;
}

/**
 * Open accepted sockets by their remote port (then told apart by the other addresses). grpc-js tells a
 * call only the addresses of its connection (`getConnectionInfo()`), and Node builds a new certificate
 * object each time it is asked (about 17 µs on a 2-core machine): to read a connection's certificate
 * once, the socket behind a call is found from its addresses. Node publishes every accepted socket on
 * the `net.server.socket` diagnostics channel; an entry leaves when its socket closes, so a new
 * connection on the same addresses never inherits an old one's identity. Keyed by the port number, not
 * by a string of all four addresses, which would be built and hashed on every call.
 */
const openSockets = new Map<number, Tracked[]>();
let listening = false;

function trackSockets(): void {
  if (listening) return;
  listening = true;
  subscribe('net.server.socket', (message) => {
    const socket = (message as { socket?: Socket }).socket;
    const port = socket?.remotePort;
    if (socket === undefined || port === undefined) return; // a pipe: no addresses to find it by
    const { remoteAddress, localAddress, localPort } = socket;
    const tracked: Tracked = { remoteAddress, localAddress, localPort, context: undefined };
    openSockets.set(port, [...(openSockets.get(port) ?? []), tracked]);
    socket.once('close', () => {
      const left = (openSockets.get(port) ?? []).filter((entry) => entry !== tracked);
      if (left.length === 0) openSockets.delete(port);
      else openSockets.set(port, left);
    });
  });
}

function trackedOf(info: ConnectionInfo): Tracked | undefined {
  const candidates = info.remotePort === undefined ? undefined : openSockets.get(info.remotePort);
  if (candidates === undefined) return undefined;
  for (const entry of candidates)
    if (
      entry.localPort === info.localPort &&
      entry.remoteAddress === info.remoteAddress &&
      entry.localAddress === info.localAddress
    )
      return entry;
  return undefined;
}

/** The auth context of `call`'s connection: grpc-js's, read once per connection when the socket is known. */
function connectionContext(call: ServerInterceptingCallInterface): AuthContext {
  const tracked = trackedOf(call.getConnectionInfo());
  if (tracked?.context !== undefined) return tracked.context;
  const read = call.getAuthContext();
  // These credentials are TLS: a call without a verified certificate came over TLS all the same.
  const context = read?.sslPeerCertificate === undefined ? tlsWithoutCertificate : Object.freeze({ ...read });
  if (tracked !== undefined) tracked.context = context;
  return context;
}

/** A call whose `getAuthContext()` answers with its connection's one auth context. */
class ConnectionAwareCall extends ServerInterceptingCall {
  readonly #inner: ServerInterceptingCallInterface;

  constructor(inner: ServerInterceptingCallInterface) {
    super(inner);
    this.#inner = inner;
  }

  override getAuthContext(): AuthContext {
    return connectionContext(this.#inner);
  }
}

const connectionAware: ServerInterceptor = (_method, call) => new ConnectionAwareCall(call);

/**
 * `credentials` (TLS) with every call's `getAuthContext()` answered once per connection, and as
 * `{ transportSecurityType: 'ssl' }` on a connection without a verified client certificate. Built on
 * grpc-js's `experimental.createServerCredentialsWithInterceptors` (1.12+): the interceptor runs on
 * the calls of the ports bound with these credentials only, before the server's own interceptors.
 */
export function withConnectionPeers(credentials: ServerCredentials): ServerCredentials {
  trackSockets();
  return experimental.createServerCredentialsWithInterceptors(credentials, [connectionAware]);
}
