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

/**
 * Accepted sockets by their address pair, while they are open. grpc-js tells a call only the
 * addresses of its connection (`getConnectionInfo()`), and Node builds a new certificate object
 * each time it is asked (about 17 µs on a 2-core machine): to read a connection's certificate once,
 * the socket behind a call has to be found from its addresses. Node publishes every accepted socket
 * on the `net.server.socket` diagnostics channel; an entry leaves the map when its socket closes, and
 * a socket that takes over an address pair replaces the entry, so a new connection never inherits an
 * old one's identity.
 */
const socketsByAddresses = new Map<string, Socket>();
const contexts = new WeakMap<Socket, AuthContext>();
let listening = false;

function trackSockets(): void {
  if (listening) return;
  listening = true;
  subscribe('net.server.socket', (message) => {
    const socket = (message as { socket?: Socket }).socket;
    if (socket?.remotePort === undefined) return; // a pipe: no address pair to find it by
    const key = addressPair(socket);
    socketsByAddresses.set(key, socket);
    socket.once('close', () => {
      if (socketsByAddresses.get(key) === socket) socketsByAddresses.delete(key);
    });
  });
}

function addressPair(info: Pick<ConnectionInfo, 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'>) {
  return `${info.remoteAddress}|${info.remotePort}|${info.localAddress}|${info.localPort}`;
}

/** The auth context of `call`'s connection: grpc-js's, read once per connection when the socket is known. */
function connectionContext(call: ServerInterceptingCallInterface): AuthContext {
  const info = call.getConnectionInfo();
  const socket = info.remotePort === undefined ? undefined : socketsByAddresses.get(addressPair(info));
  const known = socket === undefined ? undefined : contexts.get(socket);
  if (known !== undefined) return known;
  const read = call.getAuthContext();
  // These credentials are TLS: a call without a verified certificate came over TLS all the same.
  const context = read?.sslPeerCertificate === undefined ? tlsWithoutCertificate : Object.freeze({ ...read });
  if (socket !== undefined) contexts.set(socket, context);
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
