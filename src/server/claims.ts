// Hands a call's verified claims to its handler without a header a client could forge.
import type { Metadata } from '@grpc/grpc-js';
import type { JWTPayload } from 'jose';

/**
 * Verified claims by the request `Metadata` object the interceptor passed on. grpc-js gives every
 * handler kind that very object as `call.metadata` (unary and server-streaming handlers start at
 * half-close, streaming ones at metadata, but all from the one the interceptor chain produced), so
 * it identifies the call in all four. A WeakMap entry cannot be sent over the wire, and it goes
 * with the call.
 */
const claimsByMetadata = new WeakMap<Metadata, Readonly<JWTPayload>>();

/** Records `claims` as the verified claims of the call whose request metadata is `metadata`. */
export function attachClaims(metadata: Metadata, claims: Readonly<JWTPayload>): void {
  claimsByMetadata.set(metadata, claims);
}

/**
 * The verified token claims of a call, in any handler kind (unary, client-streaming,
 * server-streaming, bidi); `undefined` on a public method, or for a call that did not pass through
 * `createServerAuthInterceptor`. The claims are frozen all the way down (every call with the same token
 * shares them). An interceptor placed after the auth
 * interceptor must pass the same `Metadata` object on (grpc-js's default does), not a copy.
 *
 * @example
 * ```ts
 * server.addService(OrdersService, {
 *   GetOrder(call, callback) {
 *     const claims = getAuthClaims(call);
 *     callback(null, { id: call.request.id, owner: claims?.sub });
 *   },
 * });
 * ```
 */
export function getAuthClaims(call: { readonly metadata: Metadata }): Readonly<JWTPayload> | undefined {
  const metadata = (call as { metadata?: unknown } | null | undefined)?.metadata;
  return typeof metadata === 'object' && metadata !== null ? claimsByMetadata.get(metadata as Metadata) : undefined;
}
