// The caller's client certificate on a Connect server: connect-node hands interceptors and handlers
// no socket, so the adapter's `contextValues` hook reads it from the Node request, once per connection.
import type { TLSSocket } from 'node:tls';
import { createContextKey, createContextValues, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import { identityOf, type PeerIdentity } from '../server/peer-identity.js';

/** The context value holding the caller's identity; only {@link connectPeerContextValues} sets it. */
export const peerKey = createContextKey<PeerIdentity | undefined>(undefined, {
  description: 'grpc-oauth2-credentials peer identity',
});

/** The Node request connect-node's adapter gives `contextValues`: HTTP/1.1, or HTTP/2 with its stream. */
export interface NodeRequestLike {
  /** The connection's socket (HTTP/1.1), or a proxy of it per request (HTTP/2). */
  readonly socket?: unknown;
  /** The HTTP/2 stream, whose session is the connection. */
  readonly stream?: { readonly session?: { readonly socket?: unknown } };
}

/**
 * Identities by connection: the HTTP/2 session (each HTTP/2 request has a `socket` proxy of its own,
 * the session one for all its requests) or the HTTP/1.1 socket. One certificate read per connection:
 * Node builds a new certificate object, about 17 µs, each time it is asked.
 */
const identities = new WeakMap<object, PeerIdentity | null>();

/**
 * Context values for connect-node's adapter option `contextValues`, holding the verified client
 * certificate of the request's TLS connection (mutual TLS), so that `createConnectServerAuthInterceptor`
 * checks certificate-bound tokens (RFC 8705) and gives `onDecision` and `authorize` the caller's
 * identity, and handlers read it with {@link getConnectPeerIdentity}. The certificate counts only when
 * Node's TLS verified it (`socket.authorized`: the server's `ca`, with `requestCert: true`).
 *
 * @param request - the Node request connect-node passes to `contextValues`.
 * @param values - context values to add to (your own `contextValues`); default: new ones.
 * @example
 * ```ts
 * http2.createSecureServer(
 *   { cert, key, ca, requestCert: true },
 *   connectNodeAdapter({ routes, interceptors: [auth], contextValues: (req) => connectPeerContextValues(req) }),
 * );
 * ```
 */
export function connectPeerContextValues(
  request: NodeRequestLike,
  values: ContextValues = createContextValues(),
): ContextValues {
  const session = request?.stream?.session;
  return values.set(peerKey, identityOfConnection(session ?? request?.socket, session?.socket ?? request?.socket));
}

function identityOfConnection(connection: unknown, socket: unknown): PeerIdentity | undefined {
  if (typeof connection !== 'object' || connection === null || typeof socket !== 'object' || socket === null)
    return undefined;
  const known = identities.get(connection);
  if (known !== undefined) return known ?? undefined;
  const tls = socket as Partial<TLSSocket>;
  const verified = tls.authorized === true && typeof tls.getPeerCertificate === 'function';
  const identity = verified
    ? identityOf({ transportSecurityType: 'ssl', sslPeerCertificate: tls.getPeerCertificate!() })
    : undefined;
  identities.set(connection, identity ?? null);
  return identity;
}

/**
 * The verified client certificate of a Connect call's connection, as {@link connectPeerContextValues}
 * read it; `undefined` without mutual TLS, or when the adapter does not use `connectPeerContextValues`.
 *
 * @param context - the handler's context (its second argument), or an interceptor's request.
 * @example
 * ```ts
 * router.service(OrdersService, {
 *   getOrder(request, context) {
 *     return { id: request.id, caller: getConnectPeerIdentity(context)?.spiffeId ?? 'unknown' };
 *   },
 * });
 * ```
 */
export function getConnectPeerIdentity(context: Pick<HandlerContext, 'values'>): PeerIdentity | undefined {
  const values = (context as { values?: unknown; contextValues?: unknown } | null | undefined)?.values;
  if (typeof values !== 'object' || values === null || typeof (values as { get?: unknown }).get !== 'function')
    return undefined;
  return (values as ContextValues).get(peerKey);
}
